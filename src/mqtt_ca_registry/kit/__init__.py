"""The certificate kit: the product documentation's openssl steps as CLI subcommands.

``kit ca|intermediate|devices`` make keys and certificates locally with ``cryptography``;
``ca register`` and ``check`` talk to a running registry over its REST API. Nothing here
touches the database or the server's settings.
"""
