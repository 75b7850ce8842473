"""The browser libraries the pages take from npm, copied into webapp/static/vendor/ and committed, so the app serves
them itself (no CDN: the content security policy allows only our own scripts, and the app works offline).

Vega, Vega-Lite and vega-embed draw the charts (the same Vega-Lite altair writes for the notebooks). Vega compiles
its expressions with `new Function`, which the content security policy refuses; vega-interpreter evaluates them
without it, but npm ships it only as an ES module importing vega-util, so it is rewritten here into a plain script
that takes those functions from the vega bundle (which re-exports vega-util).

Versions are pinned in package.json / package-lock.json. After changing them:

    npm ci && python -m webapp.vendor_assets          # rewrites webapp/static/vendor/vega/

tests/test_vendor_assets.py checks that the committed files are what this makes from node_modules.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VEGA_DIR = ROOT / "webapp" / "static" / "vendor" / "vega"

# file in webapp/static/vendor/vega -> (npm package, file in the package)
COPIED = {
    "vega.min.js": ("vega", "build/vega.min.js"),
    "vega-lite.min.js": ("vega-lite", "build/vega-lite.min.js"),
    "vega-embed.min.js": ("vega-embed", "build/vega-embed.min.js"),
}
INTERPRETER = ("vega-interpreter", "build/vega-interpreter.js")
PACKAGES = ("vega", "vega-lite", "vega-embed", "vega-interpreter")
IMPORT = re.compile(r"^import \{ ([\w, ]+) \} from 'vega-util';\n", re.MULTILINE)
EXPORT = re.compile(r"^export \{ expression as expressionInterpreter \};\n?", re.MULTILINE)


def interpreter_script(module_source: str) -> str:
    """vega-interpreter's ES module as a plain script: `vega.expressionInterpreter` after vega.min.js."""
    imports = IMPORT.search(module_source)
    if imports is None or EXPORT.search(module_source) is None:
        raise ValueError("vega-interpreter changed its imports or exports: update webapp/vendor_assets.py")
    body = EXPORT.sub("", IMPORT.sub("", module_source))
    return (f"/* vega-interpreter, as a plain script (webapp/vendor_assets.py) */\n(function (vega) {{\n"
            f"const {{ {imports.group(1)} }} = vega;\n{body}\n"
            "vega.expressionInterpreter = expression;\n})(self.vega);\n")


def version(package: str, node_modules: Path = NODE_MODULES) -> str:
    return json.loads((node_modules / package / "package.json").read_text(encoding="utf-8"))["version"]


def vendored_files(node_modules: Path = NODE_MODULES) -> dict[str, bytes]:
    """Each file of webapp/static/vendor/vega as it is made from the packages in `node_modules`."""
    files = {name: (node_modules / package / path).read_bytes() for name, (package, path) in COPIED.items()}
    package, path = INTERPRETER
    files["vega-interpreter.js"] = interpreter_script((node_modules / package / path).read_text("utf-8")).encode()
    files["VERSIONS.txt"] = "".join(f"{package} {version(package, node_modules)}\n" for package in PACKAGES).encode()
    for package in PACKAGES:
        license_file = node_modules / package / "LICENSE"
        files[f"LICENSE-{package}.txt"] = license_file.read_bytes()
    return files


def main() -> int:
    if not (NODE_MODULES / "vega").is_dir():
        print("node_modules/vega is missing: run `npm ci` first", file=sys.stderr)
        return 1
    VEGA_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in vendored_files().items():
        (VEGA_DIR / name).write_bytes(content)
        print(VEGA_DIR / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
