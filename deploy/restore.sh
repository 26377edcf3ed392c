#!/bin/sh
# Restore a backup made by backup.sh into a NEW database, then check the audit log and the answer log
# against their seals. Nothing is switched over: once `verify_audit` says "intact", point
# DATABASE_URL at the new database and start the services.
#   set -a; . /etc/exams/exams.env; set +a
#   deploy/restore.sh /var/backups/exams/exams-20261207T010000Z.dump postgres://exams@127.0.0.1/exams_restored
set -eu
dump=${1:?usage: restore.sh DUMP NEW_DATABASE_URL}
new=${2:?usage: restore.sh DUMP NEW_DATABASE_URL}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
name=${new##*/}
createdb --maintenance-db="${new%/*}/postgres" "$name"
pg_restore --exit-on-error --no-owner --dbname="$new" "$dump"
DATABASE_URL=$new "$python" "$here/manage.py" verify_audit
