"""`credlint lsp`: a Language Server over stdio, for editors."""
