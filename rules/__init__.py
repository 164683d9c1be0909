"""credlint built-in rules: one module per concern, plus the catalogue data in catalogue/."""
