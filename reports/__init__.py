"""PDF rendering, report builders and the mailing of exports."""
