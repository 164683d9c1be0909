"""Credential formats found from a vendor's literal at their start or just before them: a prefix
(AKIA, ghp_, xoxb-, sk_live_, ...), a URL path (hooks.slack.com/services/), or a key named for the
value (aws_secret_access_key =, twilio_auth_token =). Each is one regular expression.
"""
from __future__ import annotations

from typing import List, Tuple

from credlint.facts.patterns.checks import documented, not_random, straight_run, token_ok
from credlint.facts.patterns.rule import FormatRule, context_rule, regex_rule
from credlint.facts.patterns.text import (
    P_A, P_AUTHTOKEN, P_ANT, P_AWS_SECRET, P_DAPI, P_DISCORD, P_DO, P_G, P_GH, P_GHPAT, P_GL, P_HF, P_HOOKS,
    P_LIVE, P_NPM, P_PN, P_PYPI, P_S, P_SQUARE, P_TEAMS, P_TWILIO, P_VAULT, P_WHSEC, P_X,
)


def _lb(prefix: str, extra: str = "") -> bytes:
    """A lookbehind placed after a literal prefix: the character before the prefix is not part of
    a token. Putting it after the literal keeps the regex literal-prefixed (fast search)."""
    return b"(?<![A-Za-z0-9" + extra.encode() + b"]" + b"." * len(prefix) + b")"


_RULES: List[FormatRule] = []

# AWS access key ids: long-term (AKIA), temporary (ASIA) and the two other credential prefixes;
# base32 body. Other AWS ids (AIDA users, AROA roles, ...) are identifiers, not secrets.
for _p in ("AKIA", "ASIA", "ABIA", "ACCA"):
    _RULES.append(regex_rule(
        "aws-access-key-id",
        b"(?P<s>" + _p.encode() + _lb(_p) + b"(?P<b>[A-Z2-7]{16}))(?![A-Za-z0-9])", (P_A,), mixed=False))
# The oldest key ids start with A3T and a fourth character (gitleaks and detect-secrets know them).
_RULES.append(regex_rule(
    "aws-access-key-id", b"(?P<s>A3T" + _lb("A3T") + b"[A-Z0-9](?P<b>[A-Z2-7]{16}))(?![A-Za-z0-9])", (P_A,),
    mixed=False))

# An AWS secret access key: 40 base64 characters, only right after a key named for it. Real keys
# mix upper and lower case; a 40-hex sha1 or a lowercase path in that slot is something else.
_RULES.append(context_rule(
    "aws-secret-access-key",
    (rb"aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?", rb"secret[_.-]?access[_.-]?key",
     rb"aws[_.-]?(?:access[_.-]?)?key"),
    rb"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", P_AWS_SECRET,
    lambda s: (not documented(s) and not not_random(s)
               and any(c.isupper() for c in s) and any(c.islower() for c in s))))

# GitHub: classic tokens (36 base62 + checksum), fine-grained PATs.
_RULES.append(regex_rule(
    "github-token", b"(?P<s>gh" + _lb("gh") + rb"[pousr]_(?P<b>[A-Za-z0-9]{36,251}))(?![A-Za-z0-9_])",
    (P_GH,)))
_RULES.append(regex_rule(
    "github-token",
    b"(?P<s>github_pat_" + _lb("github_pat_")
    + rb"(?P<b>[A-Za-z0-9]{20,30}_[A-Za-z0-9]{50,70}))(?![A-Za-z0-9_])", (P_GHPAT,)))

# GitLab: personal/project/group, deploy, runner, feed, OAuth, incoming-mail, agent, CI job,
# feature-flag tokens; pipeline trigger tokens; runner registration tokens.
_RULES.append(regex_rule(
    "gitlab-token",
    b"(?P<s>gl" + _lb("gl", "_-") + rb"(?:pat|dt|rt|ft|soat|oas|imt|agent|cbt|ffct|wt)-"
    rb"(?P<b>[A-Za-z0-9_-]{20,300})(?:\.[0-9a-z]{2}\.[0-9a-z]{7,12})?)(?![A-Za-z0-9_-])", (P_GL,)))
_RULES.append(regex_rule(
    "gitlab-token", b"(?P<s>glptt-" + _lb("glptt-", "_-") + rb"(?P<b>[0-9a-f]{40}))(?![A-Za-z0-9_-])",
    (P_GL,)))
_RULES.append(regex_rule(
    "gitlab-token",
    b"(?P<s>GR1348941" + _lb("GR1348941", "_-") + rb"(?P<b>[A-Za-z0-9_-]{20,40}))(?![A-Za-z0-9_-])",
    (P_G,)))


# Slack tokens: bot/user/legacy (xoxb, xoxp, xoxa, xoxo, xoxs, xoxr), config tokens, app tokens.
def _slack_ok(text: str, body: str) -> bool:
    last = text.rsplit("-", 1)[-1]
    numbers = [part for part in text.split("-")[1:-1] if part.isdigit() and len(part) >= 4]
    if any(len(set(n)) < 2 for n in numbers):
        return False
    return not documented(text) and not straight_run(text) and not not_random(last)


_RULES.append(regex_rule(
    "slack-token",
    b"(?P<s>xox" + _lb("xox") + rb"(?:[abposr]-(?:[0-9]{1,14}-){1,3}[A-Za-z0-9]{8,64}"
    rb"|e(?:\.xox[bp])?-[0-9]-[A-Za-z0-9]{100,200}))(?![A-Za-z0-9-])", (P_X,), accept=_slack_ok))
_RULES.append(regex_rule(
    "slack-token",
    b"(?P<s>xapp-" + _lb("xapp-") + rb"[0-9]-[A-Z0-9]{6,16}-[0-9]{6,16}-[a-f0-9]{32,80})(?![A-Za-z0-9-])",
    (P_X,), accept=_slack_ok))


# Slack incoming webhooks and workflow triggers: the path after /services/ is the secret.
def _slack_hook_ok(text: str, body: str) -> bool:
    parts = text.split("/")
    if any(len(set(p[1:])) < 2 for p in parts[:2]):  # T00000000 / B00000000
        return False
    return not documented(text) and not not_random(parts[-1])


_RULES.append(regex_rule(
    "slack-webhook",
    rb"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>T[A-Z0-9]{6,12}(?:/[A-Za-z0-9]{6,64}){2,3})"
    rb"(?![A-Za-z0-9])", (P_HOOKS,), accept=_slack_hook_ok))

# Stripe live secret and restricted keys, webhook signing secrets (publishable pk_ keys are public).
for _p in ("sk_live_", "rk_live_"):
    _RULES.append(regex_rule(
        "stripe-key", b"(?P<s>" + _p.encode() + _lb(_p) + rb"(?P<b>[A-Za-z0-9]{20,247}))(?![A-Za-z0-9])",
        (P_LIVE,)))
_RULES.append(regex_rule(
    "stripe-key", b"(?P<s>whsec_" + _lb("whsec_") + rb"(?P<b>[A-Za-z0-9+/]{32,88}))(?![A-Za-z0-9+/=])",
    (P_WHSEC,)))

# SendGrid API keys: SG.<22>.<43>.
_RULES.append(regex_rule(
    "sendgrid-key",
    b"(?P<s>SG\\." + _lb("SG.", "_-") + rb"(?P<b>[A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])",
    (P_S,)))

# Twilio: API key SIDs (SK + 32 hex; the key's secret is usually next to it) and auth tokens /
# API secrets after a key named for them. Account SIDs (AC...) are public identifiers.
_RULES.append(regex_rule(
    "twilio-key", b"(?P<s>SK" + _lb("SK") + rb"(?P<b>[0-9a-f]{32}))(?![A-Za-z0-9])", (P_S,)))
_RULES.append(context_rule(
    "twilio-key", (rb"twilio[_.-]?(?:auth[_.-]?token|api[_.-]?secret|secret)",),
    rb"[0-9a-f]{32}(?![A-Za-z0-9])", (P_TWILIO,), lambda s: token_ok(s, s)))

# Databricks personal access tokens.
_RULES.append(regex_rule(
    "databricks-token", b"(?P<s>dapi" + _lb("dapi") + rb"(?P<b>[0-9a-f]{32})(?:-[0-9])?)(?![A-Za-z0-9])",
    (P_DAPI,)))

# Google API keys and OAuth client secrets.
_RULES.append(regex_rule(
    "google-api-key", b"(?P<s>AIza" + _lb("AIza", "_-") + rb"(?P<b>[0-9A-Za-z_-]{35}))(?![A-Za-z0-9_-])",
    (P_A,)))
_RULES.append(regex_rule(
    "google-oauth-client-secret",
    b"(?P<s>GOCSPX-" + _lb("GOCSPX-", "_-") + rb"(?P<b>[0-9A-Za-z_-]{28}))(?![A-Za-z0-9_-])", (P_G,)))

# Azure: storage account keys and Service Bus / Event Hubs shared access keys in connection strings.
_RULES.append(regex_rule(
    "azure-connection-key", rb"AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])", (P_A,)))
_RULES.append(regex_rule(
    "azure-connection-key", rb"SharedAccessKey=(?P<s>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])", (P_S,)))

# Package registries: PyPI upload tokens (a macaroon for pypi.org / test.pypi.org), npm tokens.
_RULES.append(regex_rule(
    "pypi-token",
    rb"(?P<s>pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)(?P<b>[A-Za-z0-9_-]{50,1000}))(?![A-Za-z0-9_-])",
    (P_PYPI,)))
_RULES.append(regex_rule(
    "npm-token", b"(?P<s>npm_" + _lb("npm_", "_") + rb"(?P<b>[A-Za-z0-9]{36}))(?![A-Za-z0-9_])", (P_NPM,)))

# Prefect Cloud API keys: user and service-account keys of Prefect 2+ (pnu_, pnb_) and the user
# keys of Prefect Cloud 1.0 (pcu_, what `prefect auth login --key` takes).
_RULES.append(regex_rule(
    "prefect-api-key", b"(?P<s>p" + _lb("p", "_") + rb"(?:n[ub]|cu)_(?P<b>[A-Za-z0-9]{36}))(?![A-Za-z0-9_])",
    (P_PN,)))

# Anthropic API keys.
_RULES.append(regex_rule(
    "anthropic-key",
    b"(?P<s>sk-ant-" + _lb("sk-ant-", "_-")
    + rb"(?:api|admin)[0-9]{2}-(?P<b>[A-Za-z0-9_-]{80,120}))(?![A-Za-z0-9_-])", (P_ANT,)))

# Discord and Microsoft Teams incoming webhooks.
_RULES.append(regex_rule(
    "discord-webhook",
    rb"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/(?P<s>[A-Za-z0-9_-]{60,80})(?![A-Za-z0-9_-])",
    (P_DISCORD,)))
_RULES.append(regex_rule(
    "teams-webhook",
    rb"\.webhook\.office\.com/webhookb2/(?P<s>[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/(?P<b>[0-9a-f]{32})"
    rb"/[0-9a-f-]{36})", (P_TEAMS,)))


# Square OAuth application secrets and (legacy) access tokens.
_RULES.append(regex_rule(
    "square-token", b"(?P<s>sq0csp-" + _lb("sq0csp-", "_-") + rb"(?P<b>[0-9A-Za-z_-]{43}))(?![A-Za-z0-9_-])",
    (P_SQUARE,)))
_RULES.append(regex_rule(
    "square-token", b"(?P<s>sq0atp-" + _lb("sq0atp-", "_-") + rb"(?P<b>[0-9A-Za-z_-]{22}))(?![A-Za-z0-9_-])",
    (P_SQUARE,)))

# npm's legacy tokens are UUIDs: high-confidence only as the value of an .npmrc `_authToken`.
_RULES.append(regex_rule(
    "npm-token",
    rb"_authToken[ \t]{0,4}=[ \t\"']{0,4}(?P<s>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    rb"[0-9a-fA-F]{12})(?![A-Za-z0-9-])", (P_AUTHTOKEN,), accept=lambda s, b: token_ok(s, s.replace("-", ""))))

# Hugging Face access tokens, HashiCorp Vault service and batch tokens, DigitalOcean tokens.
# A Hugging Face token's body is random letters, about half of them capitals; a camelCase name
# after "hf_" (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) has a few.
_RULES.append(regex_rule(
    "huggingface-token", b"(?P<s>hf_" + _lb("hf_", "_") + rb"(?P<b>[A-Za-z]{34}))(?![A-Za-z0-9_])", (P_HF,),
    accept=lambda s, b: token_ok(s, b) and 7 <= sum(map(str.isupper, b)) <= 27))
_RULES.append(regex_rule(
    "vault-token", b"(?P<s>hv" + _lb("hv", "_.-") + rb"[sb]\.(?P<b>[A-Za-z0-9_-]{90,300}))(?![A-Za-z0-9_.-])",
    (P_VAULT,)))
_RULES.append(regex_rule(
    "digitalocean-token",
    b"(?P<s>do" + _lb("do", "_") + rb"[opr]_v1_(?P<b>[a-f0-9]{64}))(?![A-Za-z0-9_])", (P_DO,)))


# This module's rules, in the order the scan runs them.
PREFIXED_RULES: Tuple[FormatRule, ...] = tuple(_RULES)
