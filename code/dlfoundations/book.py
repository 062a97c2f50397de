"""Build helper for the book: ``_config.yml`` with a chosen execution mode and profile.

jupyter-book 1.x keys its execution cache on the code of a notebook only, not
on the environment, so outputs computed in one run profile would be served in
another. ``make book`` therefore builds from a copy of ``_config.yml`` whose
cache folder is named after the profile, and ``make test`` from a copy with
execution off (nbval has already executed every notebook)::

    python -m dlfoundations.book --execute cache --out _build/config.yml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from . import config


def book_config(source: Path, execute: str, profile: str, device: str | None = None) -> dict:
    """The parsed ``_config.yml`` with execution mode and cache folder replaced.

    The profile and device are also given to the pages as MyST substitutions
    ``{{ build_profile }}`` and ``{{ build_device }}`` (the execution statistics page shows them).
    """
    settings = yaml.safe_load(Path(source).read_text(encoding="utf8"))
    substitutions = settings.setdefault("parse", {}).setdefault("myst_substitutions", {})
    substitutions["build_profile"] = profile
    substitutions["build_device"] = str(device or config.device()) if execute != "off" else "none (not executed)"
    execution = settings.setdefault("execute", {})
    execution["execute_notebooks"] = execute
    execution["cache"] = f"_build/.jupyter_cache/{profile}"
    if execute == "off":
        # Without outputs, {glue} roles have nothing to show; tests/test_book.py
        # checks statically that every glued name is defined in its notebook.
        sphinx = settings.setdefault("sphinx", {}).setdefault("config", {})
        sphinx["suppress_warnings"] = [*sphinx.get("suppress_warnings", []), "mystnb.glue"]
    return settings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="_config.yml", type=Path)
    parser.add_argument("--execute", choices=["cache", "force", "off"], default="cache")
    parser.add_argument("--profile", default=None, help="default: DLF_PROFILE or this machine's default")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    profile = args.profile or config.profile_name()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(book_config(args.source, args.execute, profile), sort_keys=False))
    print(f"wrote {args.out} (execute: {args.execute}, profile: {profile})")


if __name__ == "__main__":
    main()
