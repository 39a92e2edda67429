"""Client records: clients, their assessments and photos (SQLAlchemy + Alembic).

    from posture.store import open_store
    with open_store() as store:                      # POSTURE_DATABASE_URL or POSTURE_DATA_DIR/posture.db
        cid = store.create_client("AB-0042", consent_given=True)
        aid = store.save_assessment(cid, photo, analysis, notes="intake")   # refused without consent
        cid, aid = store.save_for_client(photo, analysis, new_name="CD-7", consent=True)  # one transaction
        before, after = (r.to_analysis() for r in store.list_assessments(cid)[-2:])

:mod:`.models` the tables, :mod:`.engine` where the data lives, the engine, migrations and
backup/vacuum, :mod:`.repository` the :class:`Store` API, :mod:`.visits` a visit (one photo per view) saved,
listed, loaded and erased, :mod:`.export` a client's export zip.
"""

from posture.store.engine import (
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    ConsentError,
    NotFoundError,
    StoreError,
    StoreOptions,
    default_data_dir,
    default_url,
    migrate,
)
from posture.store.repository import (
    AssessmentRecord,
    ClientRecord,
    Store,
    analysis_from_dict,
    encode_photo,
    open_store,
)
from posture.store.visits import VisitRecord, delete_visit, list_visits, load_visit, save_visit

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "AssessmentRecord",
    "ClientRecord",
    "ConsentError",
    "NotFoundError",
    "Store",
    "StoreError",
    "StoreOptions",
    "VisitRecord",
    "analysis_from_dict",
    "default_data_dir",
    "default_url",
    "delete_visit",
    "encode_photo",
    "list_visits",
    "load_visit",
    "migrate",
    "open_store",
    "save_visit",
]
