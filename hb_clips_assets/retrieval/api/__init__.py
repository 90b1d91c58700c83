"""The REST API over the media index: `hb-clips serve` (FastAPI + uvicorn).

``create_app(ApiSettings.from_env())`` builds the application; see ``app.py``.
"""
