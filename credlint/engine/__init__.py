"""The rule engine: what a rule file writes (`rule`), finding rules in folders (`collect`),
choosing them (`selection`), calling them with the project model (`fixtures`), and checking a
rule's own examples (`examples`).

`from credlint.engine import Hit, Invalid, Valid, rule` is the API for writing rules, the
built-in ones and users' alike (README, "Writing a rule"): it stays put however the engine's
modules move. Nothing else is imported here, so a rule file loads only `engine.rule`.
"""
from credlint.engine.rule import Example, Hit, Invalid, Rule, Valid, rule

__all__ = ["Example", "Hit", "Invalid", "Rule", "Valid", "rule"]
