# shellcheck shell=bash
# S3 server for the remote tests: moto (PyPI) on loopback, sourced by scripts/services.sh.
#
# moto runs in IAM mode: the first INITIAL_NO_AUTH_ACTION_COUNT requests go unauthenticated (we
# spend them creating a user, its s3:* policy and an access key), and every later request must
# carry a valid SigV4 signature with that key, so a wrong secret really fails.
# moto keeps objects in memory (large ones spill to $S3_DATA/tmp): a restart loses every object and
# regenerates the keys, which we save in $S3_DATA/credentials so `status` can re-export them.
#
# Env:     S3_PORT (9000), S3_BUCKET (netsec-test; created if missing), MOTO_VERSION (5.2.5)
# Exports: S3_ENDPOINT, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
#          S3_BUCKET

S3_PORT="${S3_PORT:-9000}"
S3_BUCKET="${S3_BUCKET:-netsec-test}"
S3_MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
S3_VENV="$SVC_DIR/venv-s3"
S3_DATA="$SVC_DIR/s3-$S3_PORT"
S3_PIDF="$S3_DATA/server.pid"
S3_LOG="$S3_DATA/server.log"
S3_CREDS="$S3_DATA/credentials"
S3_URL="http://127.0.0.1:$S3_PORT"

s3_running() { [[ -f "$S3_PIDF" ]] && kill -0 "$(cat "$S3_PIDF")" 2>/dev/null; }
# moto's admin API answers without auth and does not use up the unauthenticated budget.
s3_up() { curl -sf --max-time 2 "$S3_URL/moto-api/" >/dev/null 2>&1; }

s3_env() {
  local ak sk
  read -r ak sk <"$S3_CREDS"
  echo "export S3_ENDPOINT='$S3_URL'"
  echo "export AWS_ENDPOINT_URL='$S3_URL'"
  echo "export AWS_ACCESS_KEY_ID='$ak'"
  echo "export AWS_SECRET_ACCESS_KEY='$sk'"
  echo "export AWS_REGION='us-east-1'"
  echo "export S3_BUCKET='$S3_BUCKET'"
}

s3_install() {
  command -v python3 >/dev/null || die "python3 not found (apt-get install -y python3 python3-venv)"
  if ! [[ -x "$S3_VENV/bin/moto_server" ]] || ! "$S3_VENV/bin/python" -c 'import boto3, flask_cors' >/dev/null 2>&1; then
    log "installing moto[s3]==$S3_MOTO_VERSION into $S3_VENV (~30 s, 140 MB)"
    python3 -m venv "$S3_VENV" || die "python3 -m venv failed (apt-get install -y python3-venv)"
    # moto[s3] + flask + flask-cors is all moto_server needs for S3 and IAM auth; the full
    # moto[server] extra drags in cfn-lint, docker, sympy... (3 min, 320 MB).
    "$S3_VENV/bin/pip" install -q --disable-pip-version-check "moto[s3]==$S3_MOTO_VERSION" flask flask-cors >&2 ||
      die "pip install moto[s3]==$S3_MOTO_VERSION flask flask-cors failed"
  fi
}

# Unsigned IAM calls (the no-auth budget): user, policy, access key -> $S3_CREDS.
s3_bootstrap() {
  "$S3_VENV/bin/python" - "$S3_URL" "$S3_CREDS" <<'EOF' >&2 || die "moto IAM bootstrap failed (log: $S3_LOG)"
import json, os, sys, boto3
url, out = sys.argv[1:3]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="netsec")
iam.put_user_policy(UserName="netsec", PolicyName="s3-all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="netsec")["AccessKey"]
tmp = out + ".tmp"
with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    f.write(f"{key['AccessKeyId']} {key['SecretAccessKey']}\n")
os.replace(tmp, out)
EOF
}

# Signed with the bootstrap key: head the bucket, create it when missing.
s3_bucket() {
  local ak sk
  read -r ak sk <"$S3_CREDS"
  "$S3_VENV/bin/python" - "$S3_URL" "$ak" "$sk" "$S3_BUCKET" <<'EOF' >&2 || die "could not create bucket $S3_BUCKET (log: $S3_LOG)"
import sys, boto3, botocore.config, botocore.exceptions
url, ak, sk, bucket = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=ak,
                  aws_secret_access_key=sk, config=botocore.config.Config(s3={"addressing_style": "path"}))
try:
    s3.head_bucket(Bucket=bucket)
except botocore.exceptions.ClientError:
    s3.create_bucket(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
EOF
}

s3_start() {
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
  mkdir -p "$S3_DATA/tmp"
  s3_install
  if s3_running; then
    if s3_up && [[ -s "$S3_CREDS" ]]; then
      log "s3 (moto) already running (pid $(cat "$S3_PIDF"))"
      s3_bucket
      s3_env
      return 0
    fi
    log "s3 pid $(cat "$S3_PIDF") alive but not answering; restarting"
    stop_group "$(cat "$S3_PIDF")"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null; then
    die "port $S3_PORT on 127.0.0.1 is already in use by another process; set S3_PORT"
  fi
  rm -f "$S3_CREDS"
  log "starting moto on $S3_URL (in memory, IAM auth; spill files in $S3_DATA/tmp)"
  (
    cd "$S3_DATA"
    INITIAL_NO_AUTH_ACTION_COUNT=3 TMPDIR="$S3_DATA/tmp" \
      setsid nohup "$S3_VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >>"$S3_LOG" 2>&1 </dev/null &
    echo $! >"$S3_PIDF"
  )
  for _ in $(seq 1 120); do
    s3_up && break
    s3_running || { tail -n 30 "$S3_LOG" >&2 || true; die "moto exited during startup (log: $S3_LOG)"; }
    sleep 0.5
  done
  s3_up || { tail -n 30 "$S3_LOG" >&2 || true; die "moto not answering within 60 s (log: $S3_LOG)"; }
  s3_bootstrap
  s3_bucket
  log "s3 (moto) ready at $S3_URL (pid $(cat "$S3_PIDF")), bucket $S3_BUCKET"
  s3_env
}

s3_stop() {
  if s3_running; then
    local pid
    pid=$(cat "$S3_PIDF")
    stop_group "$pid"
    log "s3 (moto) stopped (pid $pid)"
  else
    log "s3 (moto) not running"
  fi
  # the objects lived in memory: the keys die with them
  rm -f "$S3_PIDF" "$S3_CREDS"
  rm -rf "$S3_DATA/tmp"
}

s3_status() {
  if s3_running && s3_up && [[ -s "$S3_CREDS" ]]; then
    log "s3 (moto) running (pid $(cat "$S3_PIDF")) at $S3_URL"
    s3_env
    return 0
  fi
  log "s3 (moto) not running"
  return 1
}
