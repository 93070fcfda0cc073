"""Use cases and the ports they need. No framework imports: adapters satisfy the ports from infra/."""
