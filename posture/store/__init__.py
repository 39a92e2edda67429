"""Client records: clients, their assessments and photos (SQLAlchemy + Alembic).

    from posture.store import open_store
    with open_store() as store:                      # POSTURE_DATABASE_URL or POSTURE_DATA_DIR/posture.db
        cid = store.create_client("AB-0042", consent_given=True)
        aid = store.save_assessment(cid, photo, analysis, notes="intake")
        before, after = (r.to_analysis() for r in store.list_assessments(cid)[-2:])

See :mod:`posture.store.repository` for where the data lives and how it is protected.
"""

from posture.store.repository import (
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    AssessmentRecord,
    ClientRecord,
    NotFoundError,
    Store,
    StoreError,
    StoreOptions,
    analysis_from_dict,
    default_data_dir,
    default_url,
    encode_photo,
    migrate,
    open_store,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "AssessmentRecord",
    "ClientRecord",
    "NotFoundError",
    "Store",
    "StoreError",
    "StoreOptions",
    "analysis_from_dict",
    "default_data_dir",
    "default_url",
    "encode_photo",
    "migrate",
    "open_store",
]
