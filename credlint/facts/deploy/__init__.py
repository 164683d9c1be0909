"""Facts of deployment files: agents, the environment they set, secrets typed into them.

The one entry point is `reader.read_deployment_file` (what it returns: `types`). Its rooms:
`classify` (which kind a file is); `core` (the `Reader`: facts being built, `env()`, `problem()`,
`bind()`); `shapes` (what Prefect makes of a value, redacted); `lexer` and `positions` (shell
words with file positions); `shell` (scripts and the commands that start agents), with
`agent_command` and `login_command`; one room per format: `batch`, `makefile`, `dotenv`,
`dockerfile`, `supervisord`, `prefect_config` (with `toml_positions`), and for YAML `yaml_file`
(documents) over `compose`, `kubernetes`, `ci`, `yaml_lines` (the fallback) and `yaml_nodes`.
"""
