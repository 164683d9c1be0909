"""CL001: suppression comments that silence nothing."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.types import Pos


@rule(
    "CL001", "unused-suppression", "warning",
    bad=[
        Invalid("""
            from prefect import Parameter

            day = Parameter("day")  # credlint: ignore[CL302]
            """, title="nothing to silence on this line",
            line=3, column=25,
            message="suppression of CL302 matched no finding"),
        Invalid("""
            from prefect import Parameter

            api_token = Parameter("api_token")  # credlint: ignore
            """, title="a bare ignore names no code",
            line=3, column=37,
            message="a bare `credlint: ignore` names no rule, so it silences nothing"),
        Invalid("""
            from prefect import Parameter

            api_token = Parameter("api_token")  # credlint: ignore[CL302, CL3O2]
            """, title="a code no rule has (a typo)",
            line=3, column=37,
            message="suppression names CL3O2, which no rule has, so it silences nothing (see `credlint rules`)"),
    ],
    good=[Valid("""
        from prefect import Parameter

        api_token = Parameter("api_token")  # credlint: ignore[CL302]
        """)],
)
def check_unused_suppression(suppression):
    """A suppression comment that silences nothing.

    ## What it does
    Reports `# credlint: ignore[...]`, `ignore-next-line[...]`, `ignore-file[...]` and
    `# noqa: CL...` comments whose codes matched no finding, codes and names that no rule has
    (a typo such as `CL999` or `missing-secrte`; rules from your `rules` folders count as known),
    and bare `# credlint: ignore` comments, which name no code and therefore silence nothing.
    Codes of rules that are not selected in this run are known but not checked for use.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line; a bare one looks like it
    silences everything and silences nothing.

    ## How to fix
    Remove the comment, or name the codes it is meant for: `# credlint: ignore[CL201]`.
    """
    item = suppression.suppression
    pos = Pos(item.line, item.column, item.line, item.column + 1)
    if not item.codes:
        yield Hit(path=suppression.path, pos=pos,
                  message="a bare `credlint: ignore` names no rule, so it silences nothing",
                  fix="name the codes: # credlint: ignore[CL201]")
        return
    if suppression.unknown:
        unknown = ", ".join(suppression.unknown)
        yield Hit(path=suppression.path, pos=pos,
                  message=f"suppression names {unknown}, which no rule has, so it silences nothing "
                          f"(see `credlint rules`)",
                  fix="correct the code or rule name, or remove it")
    if suppression.codes:
        codes = ", ".join(suppression.codes)
        yield Hit(path=suppression.path, pos=pos,
                  message=f"suppression of {codes} matched no finding",
                  fix="remove it (or the codes that no longer apply)")
