"""Bundled configuration files: model architectures (model/*.toml) and training recipes (*.toml)."""
