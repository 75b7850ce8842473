"""The domain logic as plain functions: the views, the CLI, the reports and the notebooks call these."""
