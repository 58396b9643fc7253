"""The Alibaba Cloud OpenAPI front end (``GET|POST /``): request signing, dispatch, adapters."""
