#!/bin/sh
# One-shot MinIO setup for gongwen (compose service minio-init, image minio/mc); safe to run again.
#
# 1. the archive bucket, with object lock (which turns versioning on for good);
# 2. gongwen's own user with gongwen-policy.json: write and read, set retention and legal
#    hold, and never delete or change the bucket;
# 3. the auditors' user with auditor-policy.json: read only.
# POSIX sh with mc and cat only (what the minio/mc image has).
set -eu
: "${MINIO_URL:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}"
: "${GONGWEN_S3_BUCKET:?}" "${GONGWEN_S3_ACCESS_KEY:?}" "${GONGWEN_S3_SECRET_KEY:?}"
: "${MINIO_AUDITOR_USER:?}" "${MINIO_AUDITOR_PASSWORD:?}"
here=$(dirname "$0")
bucket=$GONGWEN_S3_BUCKET

# The policies name the bucket in their Resource lines: refuse to grant rights on another one.
for policy in "$here/gongwen-policy.json" "$here/auditor-policy.json"; do
  case "$(cat "$policy")" in
    *"\"arn:aws:s3:::$bucket\""*) ;;
    *)
      echo "minio-init: $policy does not name the bucket \"$bucket\": replace gongwen in its Resource lines" >&2
      exit 2
      ;;
  esac
done

attach() { # policy user: attach, accepting "already attached"
  if ! out=$(mc admin policy attach gw "$1" --user "$2" 2>&1); then
    case "$out" in
      *"already in effect"*) ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
}

mc alias set gw "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing --with-lock "gw/$bucket"

mc admin user add gw "$GONGWEN_S3_ACCESS_KEY" "$GONGWEN_S3_SECRET_KEY"
mc admin policy create gw gongwen-writer "$here/gongwen-policy.json"
attach gongwen-writer "$GONGWEN_S3_ACCESS_KEY"

mc admin user add gw "$MINIO_AUDITOR_USER" "$MINIO_AUDITOR_PASSWORD"
mc admin policy create gw gongwen-auditor "$here/auditor-policy.json"
attach gongwen-auditor "$MINIO_AUDITOR_USER"

echo "minio-init: bucket $bucket (object lock), users $GONGWEN_S3_ACCESS_KEY (gongwen-writer) and $MINIO_AUDITOR_USER (gongwen-auditor)"
