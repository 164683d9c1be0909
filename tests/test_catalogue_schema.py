"""The catalogue's TOML is checked as it is loaded: a misspelt key or value is an error naming the
file, the entry and the key, never a default read silently."""
from __future__ import annotations

import textwrap

import pytest

from credlint.prefect.catalogue import SCHEMA, CatalogueError, check_document, load_catalogue
from credlint.prefect.catalogue_sources import default_catalogue_dir, source_files
from credlint.tomlcompat import toml

ENTRY = '''\
[[entry]]
symbol = "acme.tasks.Upload"
aliases = ["acme.Upload"]
kind = "task"
integration = "acme"
credentials = true

  [[entry.secrets]]
  name = "ACME_TOKEN"
  mechanism = "secret_get"
  family = "acme"
  required = true
  name_param = "token_secret"
  name_where = "init+run"

  [[entry.credential_params]]
  param = "token"
  where = "run"

  [[entry.env_vars]]
  name = "ACME_HOST"
  at = "init"

  [[entry.removed_params]]
  param = "acme_secret"
  where = "init"
'''


def test_the_built_in_catalogue_passes_the_strict_check():
    clients = default_catalogue_dir().parent / "clients.toml"
    files = source_files()
    assert clients in files and len(files) > 10
    for path in files:
        check_document(toml.loads(path.read_text(encoding="utf-8")), path.name, clients=path == clients)
    assert len(load_catalogue()) > 200


def test_the_schema_knows_every_key_the_loader_reads():
    """Each table's keys are its data class's fields: a key the loader reads is never "unknown"."""
    assert "name_param" in SCHEMA["secrets"][0] and "source_file" not in SCHEMA["entry"][0]
    assert SCHEMA["secrets"][2]["name_where"] == ("", "init", "run", "init+run", "call")


def test_a_correct_extra_folder_loads(tmp_path):
    (tmp_path / "acme.toml").write_text(ENTRY, encoding="utf-8")
    entry = load_catalogue([tmp_path]).lookup("acme.Upload")
    assert entry is not None and entry.secrets[0].name_param == "token_secret"


@pytest.mark.parametrize("before, after, expected", [
    ('  name_param = "token_secret"\n', '  name_parm = "token_secret"\n',
     "acme.toml: acme.tasks.Upload: unknown key secrets[0].name_parm (the keys are family, mechanism, name, "),
    ('kind = "task"\n', 'kind = "tsak"\n',
     "acme.toml: acme.tasks.Upload: kind = 'tsak' is not one of task, utility, storage, run_config, result, notifier"),
    ('name_where = "init+run"\n', 'name_where = "sometimes"\n',
     "acme.toml: acme.tasks.Upload: secrets[0].name_where = 'sometimes' is not one of , init, run, init+run, call"),
    ('integration = "acme"\n', 'integration = "acme"\nsecret = []\n',
     "acme.toml: acme.tasks.Upload: unknown key secret (the keys are aliases, credential_params, credentials, "),
    ('  mechanism = "secret_get"\n', '  mechanism = "secretget"\n',
     "acme.toml: acme.tasks.Upload: secrets[0].mechanism = 'secretget' is not one of context, secret_get, "),
    ('  where = "run"\n', '  where = "runtime"\n',
     "acme.toml: acme.tasks.Upload: credential_params[0].where = 'runtime' is not one of init, run, init+run, call"),
    ('  at = "init"\n', '  at = "import"\n',
     "acme.toml: acme.tasks.Upload: env_vars[0].at = 'import' is not one of init, run"),
    ('  param = "acme_secret"\n', '  parameter = "acme_secret"\n',
     "acme.toml: acme.tasks.Upload: unknown key removed_params[0].parameter"),
    ('  param = "token"\n', '', "acme.toml: acme.tasks.Upload: credential_params[0].param is missing"),
    ('symbol = "acme.tasks.Upload"\n', '', "acme.toml: entry 1: symbol is missing"),
    ('[[entry]]\n', '[[entries]]\n', "acme.toml: unknown table entries (the file holds [[entry]] tables)"),
])
def test_each_kind_of_mistake_names_the_file_the_entry_and_the_key(tmp_path, before, after, expected):
    assert ENTRY.count(before) == 1
    (tmp_path / "acme.toml").write_text(ENTRY.replace(before, after), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue([tmp_path])
    assert str(caught.value).startswith(expected), str(caught.value)


def test_a_mistake_in_the_second_entry_names_it(tmp_path):
    second = ENTRY.replace("acme.tasks.Upload", "acme.tasks.Download").replace("acme.Upload", "acme.Download")
    (tmp_path / "acme.toml").write_text(ENTRY + "\n" + second.replace('kind = "task"', 'kind = "tsak"'),
                                        encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"^acme\.toml: acme\.tasks\.Download: kind = 'tsak'"):
        load_catalogue([tmp_path])


def test_a_table_where_a_list_of_tables_belongs(tmp_path):
    (tmp_path / "acme.toml").write_text(textwrap.dedent('''\
        [[entry]]
        symbol = "acme.tasks.Upload"
        secrets = ["ACME_TOKEN"]
        '''), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"^acme\.toml: acme\.tasks\.Upload: secrets\[0\] is not a table$"):
        load_catalogue([tmp_path])
