"""Course tooling: the table of contents, notebook guards, the notebook runner, the HTML build
and the browser check. ``python -m dentpy.book --help`` lists the commands."""
