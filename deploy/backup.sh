#!/bin/sh
# A backup of one exam site: the database (pg_dump, custom format: consistent, restorable table by
# table) and the evidence and item pictures (MEDIA_ROOT). Run it as the exams user from cron or a
# systemd timer, with the production settings in the environment:
#   set -a; . /etc/exams/exams.env; set +a; deploy/backup.sh /var/backups/exams
# The keys (/etc/exams/keys) are NOT in it: keep them apart, offline. Without AUDIT_HMAC_KEY a
# restored audit log cannot be verified; without MARKING_CODE_KEY the anonymous codes change.
set -eu
target=${1:?usage: backup.sh DIRECTORY}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
umask 077
mkdir -p "$target"
pg_dump --format=custom --no-owner --file="$target/exams-$stamp.dump" "${DATABASE_URL:?DATABASE_URL is not set}"
if [ -d "${MEDIA_ROOT:-}" ]; then
  tar --create --gzip --file="$target/media-$stamp.tar.gz" --directory="$MEDIA_ROOT" .
fi
echo "$target/exams-$stamp.dump"
