"""CL000: files credlint could not read, decode or parse."""
from credlint.engine import Hit, Invalid, Valid, rule


@rule(
    "CL000", "parse-error", "error",
    bad=[Invalid("""
        from prefect import Flow
        with Flow("etl") as flow
            pass
        """, title="a syntax error",
        line=2, column=25,
        message="cannot check this file: syntax error: expected ':'")],
    good=[Valid("""
        from prefect import Flow
        with Flow("etl") as flow:
            pass
        """)],
)
def check_parse_error(file_error):
    """A file could not be read, decoded or parsed, so credlint could not check it.

    ## What it does
    Reports a Python file that is not valid UTF-8, does not parse, or is too large or too deeply
    nested to analyse: over 256 KB, or with brackets nested more than 100 deep, where libcst
    would need gigabytes and minutes. The rest of the project is still checked.

    Also any file credlint would read but cannot, Python or not (a `.env`, a workflow, a key
    file): one it has no permission to read, or one that is not a regular file (a named pipe,
    socket or device called `x.py` or `Dockerfile` is never opened: it could block the run).
    A folder that cannot be listed is reported as a warning, since the files in it are not
    checked. A run with such a file never reuses or keeps its report, so fixing the
    permissions is enough for the next run to check the file.

    Only files credlint has to read are parsed: files that mention Prefect, set a flow's
    storage or run config, hold a credlint suppression, or are imported by such a file. A
    syntax error in any other file is not reported here.

    ## Why is this bad?
    Whatever the file declares (flows, storage secrets, credentials) is invisible to credlint,
    so other findings may be missing or wrong, and Prefect will not be able to load it either.

    ## How to fix
    Fix the syntax error or the encoding; for a generated file that is not a flow, add it to
    `exclude` in the configuration.
    """
    error = file_error
    yield Hit(
        path=error.path,
        pos=error.pos,
        message=f"cannot check this {error.kind}: {error.message}",
        fix="fix the file or its permissions, or add it to `exclude` if it is not meant to be checked",
        severity=error.severity,
    )
