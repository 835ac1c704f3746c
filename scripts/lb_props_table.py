#!/usr/bin/env python3
"""Write the load-balancing property tables of README.rst and
doc/loadbalance.rst from the property table, psycopg2._lb_props.PROPERTIES.

Usage: python scripts/lb_props_table.py [--check]

The table goes between the lines ``.. BEGIN lb-properties ...`` and
``.. END lb-properties`` of each file.  With --check nothing is written: the
exit status is 1, with a message, if a file's table differs from the one
this script writes.  psycopg2 must be importable (a build on PYTHONPATH).
"""

import argparse
import os
import sys
from typing import List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ("README.rst", os.path.join("doc", "loadbalance.rst"))
BEGIN = (".. BEGIN lb-properties (written by scripts/lb_props_table.py "
         "from psycopg2._lb_props: do not edit)")
END = ".. END lb-properties"


def render() -> List[str]:
    """The lines of the RST table of the properties."""
    from psycopg2._lb_props import PROPERTIES
    lines = [".. list-table::", "   :header-rows: 1", ""]

    def row(cells: List[str]) -> None:
        lines.append("   * - " + cells[0])
        lines.extend("     - " + cell for cell in cells[1:])

    row(["Property", "Environment variable", "Default", "Accepted values",
         "Meaning"])
    for prop in PROPERTIES:
        default = prop.show(prop.default)
        row(["``%s``" % prop.name, "``%s``" % prop.env,
             "``%s``" % default if default else "none",
             prop.accepted, prop.doc])
    return lines


def replace_table(text: str, table: List[str], path: str) -> str:
    """`text` with the lines between the markers replaced by `table`."""
    lines = text.split("\n")
    try:
        start = lines.index(BEGIN)
        end = lines.index(END, start)
    except ValueError:
        raise SystemExit("%s: the lines %r and %r were not found"
                         % (path, BEGIN, END))
    return "\n".join(lines[:start + 1] + [""] + table + [""] + lines[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that the tables are up to date")
    args = parser.parse_args()
    table = render()
    stale = []
    for name in FILES:
        path = os.path.join(ROOT, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = replace_table(text, table, name)
        if new == text:
            continue
        stale.append(name)
        if not args.check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    if args.check and stale:
        sys.stderr.write("property table out of date in %s: run "
                         "python scripts/lb_props_table.py\n"
                         % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
