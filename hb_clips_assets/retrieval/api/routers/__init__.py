"""The API's routes, one router per concern; :func:`~hb_clips_assets.retrieval.api.app.create_app` includes them."""
