# Shared by .ci/nginx/run and .ci/rolling/run (source it): Debian's nginx, a
# certificate for localhost made by the test, and deploy/nginx/portal.conf with
# only its site-specific values replaced.

# Sets NGINX to Debian's nginx, installing nginx-light when it is missing.
nginx_install() {
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  if [ ! -x "$NGINX" ]; then
    echo "installing nginx (Debian package)…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light) >/dev/null 2>&1 || true
    NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  fi
  [ -x "$NGINX" ] || { echo "FATAL: nginx is required and could not be installed (apt-get install nginx-light)" >&2; exit 1; }
  command -v openssl >/dev/null || { echo "FATAL: the openssl CLI is missing" >&2; exit 1; }
}

# A CA ($1/ca.pem) and a certificate for localhost signed by it ($1/portal.crt, .key).
nginx_cert() {
  local w="$1"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=portal nginx test CA" -keyout "$w/ca.key" -out "$w/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$w/portal.key" -out "$w/portal.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$w/ext"
  openssl x509 -req -in "$w/portal.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial -days 2 -extfile "$w/ext" -out "$w/portal.crt" >/dev/null 2>&1
}

# Loads deploy/nginx/portal.conf into $conf; nginx_subst replaces a value that
# must be there (the shipped file may not drift from what is tested).
nginx_load_conf() { conf="$(cat deploy/nginx/portal.conf)"; }
nginx_subst() {
  grep -qF -- "$1" <<<"$conf" || { echo "FATAL: '$1' is no longer in deploy/nginx/portal.conf" >&2; exit 1; }
  conf="${conf//"$1"/"$2"}"
}

# Writes $conf with the test's addresses and certificate to $1/portal.conf and
# a wrapper $1/nginx.conf around it, then starts nginx (pid in $1/nginx.pid).
nginx_start() {
  local w="$1" tls="$2" plain="$3"
  nginx_subst "listen 443 ssl http2;" "listen 127.0.0.1:$tls ssl http2;"
  nginx_subst "listen 80;" "listen 127.0.0.1:$plain;"
  nginx_subst "server_name portal.example.com;" "server_name localhost;"
  nginx_subst "/etc/nginx/tls/portal.crt" "$w/portal.crt"
  nginx_subst "/etc/nginx/tls/portal.key" "$w/portal.key"
  printf '%s\n' "$conf" > "$w/portal.conf"
  mkdir -p "$w/tmp" && chmod 0777 "$w/tmp"
  cat > "$w/nginx.conf" <<NGX
worker_processes 1;
pid $w/nginx.pid;
error_log $w/error.log warn;
events { worker_connections 256; }
http {
  access_log $w/access.log;
  client_body_temp_path $w/tmp/body; proxy_temp_path $w/tmp/proxy;
  fastcgi_temp_path $w/tmp/fastcgi; uwsgi_temp_path $w/tmp/uwsgi; scgi_temp_path $w/tmp/scgi;
  include $w/portal.conf;
}
NGX
  "$NGINX" -t -c "$w/nginx.conf" -p "$w" 2>&1 | grep -v "^nginx: the configuration file .* syntax is ok" || true
  "$NGINX" -c "$w/nginx.conf" -p "$w"
}
