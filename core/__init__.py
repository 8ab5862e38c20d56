"""kesu domain: standard library only (no streamlit, no sqlalchemy)."""
