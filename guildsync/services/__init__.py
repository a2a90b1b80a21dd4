"""Guild sync services, one module per job (see guildsync/README.md)."""
