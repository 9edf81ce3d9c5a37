"""The local HTTP model server (FastAPI). It only translates requests to citations/ and latex/."""
