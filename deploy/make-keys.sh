#!/bin/sh
# Make the production keys, one file each, readable by the service's group only; an existing key is
# kept (a new audit key would make the sealed log unverifiable, a new marking key would rename every
# anonymous answer code). The e-mail password is the relay's: write it into email_password yourself.
set -eu
dir=${1:?usage: make-keys.sh DIRECTORY [GROUP]}
group=${2:-exams}
umask 027
mkdir -p "$dir"
for name in django_secret_key audit_hmac_key marking_code_key turn_secret; do
  if [ -s "$dir/$name" ]; then
    echo "kept    $dir/$name"
  else
    python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$dir/$name"
    echo "made    $dir/$name"
  fi
done
chgrp -R "$group" "$dir" 2>/dev/null || echo "note: group $group does not exist yet; chgrp -R $group $dir later"
chmod 0750 "$dir"
chmod 0640 "$dir"/*
