"""Sphinx configuration of the psycopg2-yugabytedb documentation.

The ``psycopg2`` package documented must be importable: installed, or
found through ``PYTHONPATH`` (e.g. the site directory printed by
``scripts/devbuild.sh``).  Then::

    python -m sphinx -W -b html doc build/html

The examples of the pages run against a real server with the doctest
builder; ``PSYCOPG2_DOC_DSN`` names that server (its database is used as a
scratch area, the test server of ``tests/`` is meant)::

    PSYCOPG2_DOC_DSN="host=... dbname=..." \
        python -m sphinx -b doctest doc build/doctest

``tests/test_docs_build.py`` runs both builds.
"""

import doctest

try:
    import psycopg2
except ImportError as e:
    raise RuntimeError(
        "the documentation is generated from the psycopg2 package, which "
        "cannot be imported (%s): install it, or point PYTHONPATH at the "
        "site directory printed by scripts/devbuild.sh" % e) from e

project = "psycopg2-yugabytedb"
author = "the psycopg2-yugabytedb authors"
copyright = "the psycopg2-yugabytedb authors"
release = psycopg2.__version__.split()[0]
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
]

root_doc = "index"
exclude_patterns = ["_build", "api/_*"]
language = "en"
nitpicky = False
default_role = "py:obj"

html_theme = "alabaster"
html_title = f"{project} {release}"
html_static_path = []

# -- autodoc -----------------------------------------------------------------

# The narrative pages describe most objects with their own directives and
# are where cross references point; the API reference pages are generated
# from the docstrings and mark their entries ``no-index`` so the two do not
# describe the same object twice.
autodoc_default_options = {
    "members": True,
    "undoc-members": False,
    "show-inheritance": True,
    "member-order": "bysource",
}
# Signatures keep their annotations; the descriptions do not repeat them.
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "both"

# -- doctest -----------------------------------------------------------------

# The same options as the test suite's own runner of the page examples.
doctest_default_flags = doctest.ELLIPSIS
# The ``>>>`` blocks of the pages are the examples.
doctest_test_doctest_blocks = "default"

# The names the pages' examples expect to find: the server's DSN, an open
# connection to it, a scratch directory.
doctest_global_setup = """
import os
import shutil
import tempfile

import psycopg2

dsn = os.environ.get("PSYCOPG2_DOC_DSN")
if not dsn:
    raise RuntimeError(
        "the doctest builder runs the examples against a real server: "
        "set PSYCOPG2_DOC_DSN to its connection string")
conn = psycopg2.connect(dsn)
tmpdir = tempfile.mkdtemp(prefix="psycopg2-doctest-")
"""

doctest_global_cleanup = """
conn.close()
shutil.rmtree(tmpdir, ignore_errors=True)
"""


# -- pages whose examples need a multi-node cluster ---------------------------

# The examples of these pages run against a real multi-node cluster, started
# by the load-balancing test suite (tests/loadbalance/test_lb_faults.py runs
# doc/loadbalance.rst); the single server of the doctest builder cannot run
# them, so for that builder they are plain literal blocks.
CLUSTER_PAGES = frozenset(["loadbalance"])


def _cluster_examples_as_literal(app, doctree):
    from docutils import nodes

    if app.builder.name != "doctest" or app.env.docname not in CLUSTER_PAGES:
        return
    for block in list(doctree.findall(nodes.doctest_block)):
        block.replace_self(
            nodes.literal_block(block.rawsource, block.rawsource))


def setup(app):
    app.connect("doctree-read", _cluster_examples_as_literal)
