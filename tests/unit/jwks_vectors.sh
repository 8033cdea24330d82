#!/bin/sh
# jwks_vectors.sh DIR [EXP]
#
# Makes the asymmetric test vectors of the JWKS tests with the openssl
# command-line tool, so that no key, JWKS or token is produced by
# credstore's own code: a verifier bug cannot hide behind a signer bug.
#
# In DIR it writes
#   *.pem            private keys (RSA 2048, P-256, P-384, P-521, Ed25519)
#   jwks.json        the set the tests configure (see below)
#   jwks_added.json  the same plus the key "rsa-new"
#   jwks_rotated.json  "rsa-new" in, "rsa1" out
#   rsa1.n, rsa1.e, ec256.x, ec256.y, ec384.x, ec384.y, ed1.x, rsa1024.n
#                    JWK members (base64url) for tests that build JWKS
#   tok/NAME.jwt     one token per file, no newline
#
# Every token carries iss https://issuer.test, aud credstore, org_id acme,
# sub alice, role admin and exp EXP (default 1700003600), unless its name
# says otherwise.
set -eu

dir=${1:?usage: jwks_vectors.sh DIR [EXP]}
exp=${2:-1700003600}
command -v openssl >/dev/null 2>&1 || {
	echo "jwks_vectors.sh: the openssl command is needed" >&2
	exit 2
}
mkdir -p "$dir/tok"
cd "$dir"

# --- encodings -------------------------------------------------------------
b64u() { basenc --base64url -w0 | tr -d '='; }
b64() { basenc --base64 -w0; }
hex() { basenc --base16 -w0; }
unhex() { tr 'a-f' 'A-F' | basenc --base16 -d; }
unb64u() {
	u=$(cat)
	case $((${#u} % 4)) in 2) u="$u==" ;; 3) u="$u=" ;; esac
	printf '%s' "$u" | basenc --base64url -d
}
# a string, base64url
s64() { printf '%s' "$1" | b64u; }

# --- keys ------------------------------------------------------------------
genrsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" \
    -out "$1.pem" 2>/dev/null; }
genec() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" \
    -out "$1.pem" 2>/dev/null; }
genrsa rsa1 2048
genrsa rsa2 2048
genrsa rsa3 2048
genrsa rsa-new 2048
genrsa rsa-evil 2048
genrsa rsa1024 1024
genec ec256 P-256
genec ec384 P-384
genec ec521 P-521
openssl genpkey -algorithm ED25519 -out ed1.pem 2>/dev/null

for k in rsa1 rsa2 rsa3 rsa-new rsa-evil rsa1024 ec256 ec384 ec521 ed1; do
	openssl pkey -in "$k.pem" -pubout -out "$k.pub"
done

# RSA n and e, base64url, from the public key
rsa_n() {
	openssl rsa -pubin -in "$1.pub" -modulus -noout | sed 's/^Modulus=//' |
	    unhex | b64u
}
rsa_e() {
	e=$(openssl rsa -pubin -in "$1.pub" -text -noout |
	    sed -n 's/^Exponent: [0-9]* (0x\([0-9a-fA-F]*\))$/\1/p')
	[ $((${#e} % 2)) -eq 0 ] || e="0$e"
	printf '%s' "$e" | unhex | b64u
}
# EC x or y: the uncompressed point 04||x||y ends the DER public key
ec_coord() {	# KEY BYTES x|y
	openssl pkey -pubin -in "$1.pub" -outform DER | tail -c $((2 * $2)) >pt.bin
	if [ "$3" = x ]; then head -c "$2" pt.bin; else tail -c "$2" pt.bin; fi |
	    b64u
	rm -f pt.bin
}
ed_x() { openssl pkey -pubin -in "$1.pub" -outform DER | tail -c 32 | b64u; }

for k in rsa1 rsa2 rsa3 rsa-new rsa-evil rsa1024; do
	rsa_n "$k" >"$k.n"
	rsa_e "$k" >"$k.e"
done
ec_coord ec256 32 x >ec256.x
ec_coord ec256 32 y >ec256.y
ec_coord ec384 48 x >ec384.x
ec_coord ec384 48 y >ec384.y
ec_coord ec521 66 x >ec521.x
ec_coord ec521 66 y >ec521.y
ed_x ed1 >ed1.x

rsa_jwk() {	# KEY KID EXTRA
	printf '{"kty":"RSA","kid":"%s"%s,"n":"%s","e":"%s"}' "$2" "$3" \
	    "$(cat "$1.n")" "$(cat "$1.e")"
}
ec_jwk() {	# KEY CRV KID EXTRA
	printf '{"kty":"EC","crv":"%s","kid":"%s"%s,"x":"%s","y":"%s"}' "$2" \
	    "$3" "$4" "$(cat "$1.x")" "$(cat "$1.y")"
}

# The configured set.  rsa1 verifies RS* and PS*; rsa2 only PS256; rsa3
# is an encryption key (Keycloak publishes one beside its signing key):
# without "use":"enc" it would verify everything rsa1 does, with it
# nothing.  One key per curve.  RS256 without kid so finds exactly one key
# (rsa1), PS256 without kid two (rsa1, rsa2).
k_rsa1=$(rsa_jwk rsa1 rsa1 ',"use":"sig"')
k_rsa2=$(rsa_jwk rsa2 rsa2 ',"use":"sig","alg":"PS256"')
k_rsa3=$(rsa_jwk rsa3 rsa3 ',"use":"enc"')
k_new=$(rsa_jwk rsa-new rsa-new ',"use":"sig","alg":"RS256"')
k_ec256=$(ec_jwk ec256 P-256 ec256 ',"use":"sig","alg":"ES256"')
k_ec384=$(ec_jwk ec384 P-384 ec384 '')
k_ed1=$(printf '{"kty":"OKP","crv":"Ed25519","kid":"ed1","alg":"EdDSA","x":"%s"}' \
    "$(cat ed1.x)")
printf '{"keys":[%s,%s,%s,%s,%s,%s]}\n' "$k_rsa1" "$k_rsa2" "$k_rsa3" \
    "$k_ec256" "$k_ec384" "$k_ed1" >jwks.json
printf '{"keys":[%s,%s,%s,%s,%s,%s,%s]}\n' "$k_rsa1" "$k_rsa2" "$k_rsa3" \
    "$k_ec256" "$k_ec384" "$k_ed1" "$k_new" >jwks_added.json
printf '{"keys":[%s,%s,%s,%s,%s,%s]}\n' "$k_new" "$k_rsa2" "$k_rsa3" \
    "$k_ec256" "$k_ec384" "$k_ed1" >jwks_rotated.json

# --- signing ---------------------------------------------------------------
# Each signer reads the signing input on stdin and writes the raw JWS
# signature on stdout.
sig_rs() { openssl dgst "-sha$1" -sign "$2.pem"; }
sig_ps() {	# BITS KEY [SALTLEN]
	openssl dgst "-sha$1" -sigopt rsa_padding_mode:pss \
	    -sigopt "rsa_pss_saltlen:${3:-digest}" -sign "$2.pem"
}
sig_ed() { cat >in.bin; openssl pkeyutl -sign -inkey "$1.pem" -rawin -in in.bin; }
# ECDSA: openssl writes DER; JWS wants r || s, each left-padded to SIZE.
pad_hex() {	# HEX BYTES: strip leading 00, left-pad with 0 to 2*BYTES
	h=$1
	while [ ${#h} -gt $((2 * $2)) ] && [ "${h#00}" != "$h" ]; do
		h=${h#00}
	done
	while [ ${#h} -lt $((2 * $2)) ]; do h="0$h"; done
	printf '%s' "$h"
}
der_to_rs_hex() {	# BYTES < DER > hex(r||s)
	cat >der.bin
	set -- "$1" $(openssl asn1parse -inform DER -in der.bin |
	    sed -n 's/.*INTEGER *:\([0-9A-Fa-f]*\)$/\1/p')
	printf '%s%s' "$(pad_hex "$2" "$1")" "$(pad_hex "$3" "$1")"
}
sig_es_der() { openssl dgst "-sha$1" -sign "$2.pem"; }
sig_es() {	# BITS KEY BYTES
	sig_es_der "$1" "$2" | der_to_rs_hex "$3" | unhex
}
sig_hs() {	# BITS KEYFILE: HMAC keyed with the file's bytes
	openssl dgst "-sha$1" -mac HMAC -macopt "hexkey:$(hex <"$2")" -binary
}

claims() {	# [EXTRA] [EXP]: the standard claims
	printf '{"iss":"https://issuer.test","aud":"credstore","org_id":"acme","sub":"alice","role":"admin","exp":%s%s}' \
	    "${2:-$exp}" "${1:-}"
}

# tok NAME HEADER CLAIMS SIGNER...: writes tok/NAME.jwt
tok() {
	name=$1 h=$2 c=$3
	shift 3
	input="$(s64 "$h").$(s64 "$c")"
	s=$(printf '%s' "$input" | "$@" | b64u)
	# a pipeline's status is its last command's: check the result
	[ -n "$s" ] || { echo "jwks_vectors.sh: $name: no signature" >&2; exit 1; }
	printf '%s.%s' "$input" "$s" >"tok/$name.jwt"
}
# raw NAME CONTENT: a token assembled by hand
raw() { printf '%s' "$2" >"tok/$1.jwt"; }

C=$(claims)

# --- valid: one per algorithm, and the key choice without kid ------------
tok rs256 '{"alg":"RS256","typ":"JWT","kid":"rsa1"}' "$C" sig_rs 256 rsa1
tok rs384 '{"alg":"RS384","kid":"rsa1"}' "$C" sig_rs 384 rsa1
tok rs512 '{"alg":"RS512","kid":"rsa1"}' "$C" sig_rs 512 rsa1
tok ps256 '{"alg":"PS256","kid":"rsa1"}' "$C" sig_ps 256 rsa1
tok ps384 '{"alg":"PS384","kid":"rsa1"}' "$C" sig_ps 384 rsa1
tok ps512 '{"alg":"PS512","kid":"rsa1"}' "$C" sig_ps 512 rsa1
tok ps256_rsa2 '{"alg":"PS256","kid":"rsa2"}' "$C" sig_ps 256 rsa2
tok es256 '{"alg":"ES256","typ":"JWT","kid":"ec256"}' "$C" sig_es 256 ec256 32
tok es384 '{"alg":"ES384","kid":"ec384"}' "$C" sig_es 384 ec384 48
tok eddsa '{"alg":"EdDSA","kid":"ed1"}' "$C" sig_ed ed1
tok rs256_nokid '{"alg":"RS256"}' "$C" sig_rs 256 rsa1
tok es256_nokid '{"alg":"ES256"}' "$C" sig_es 256 ec256 32
tok eddsa_nokid '{"alg":"EdDSA","typ":"JWT"}' "$C" sig_ed ed1
tok rs256_atjwt '{"alg":"RS256","typ":"at+jwt","kid":"rsa1"}' "$C" sig_rs 256 rsa1
tok es256_viewer '{"alg":"ES256","kid":"ec256"}' \
    "$(printf '{"iss":"https://issuer.test","aud":"credstore","org_id":"acme","sub":"bob","role":"viewer","exp":%s}' "$exp")" \
    sig_es 256 ec256 32
tok rs256_new '{"alg":"RS256","kid":"rsa-new"}' "$C" sig_rs 256 rsa-new

# --- key choice ------------------------------------------------------------
tok ps256_nokid '{"alg":"PS256"}' "$C" sig_ps 256 rsa1
tok rs256_kid_rsa2 '{"alg":"RS256","kid":"rsa2"}' "$C" sig_rs 256 rsa2
tok rs256_kid_enc '{"alg":"RS256","kid":"rsa3"}' "$C" sig_rs 256 rsa3
tok rs256_kid_unknown '{"alg":"RS256","kid":"nosuch"}' "$C" sig_rs 256 rsa1
tok rs256_wrong_key '{"alg":"RS256","kid":"rsa1"}' "$C" sig_rs 256 rsa-evil
tok es256_kid_ec384 '{"alg":"ES256","kid":"ec384"}' "$C" sig_es 256 ec256 32
tok es384_kid_ec256 '{"alg":"ES384","kid":"ec256"}' "$C" sig_es 384 ec384 48
tok eddsa_kid_rsa1 '{"alg":"EdDSA","kid":"rsa1"}' "$C" sig_ed ed1
tok ps256_saltmax '{"alg":"PS256","kid":"rsa1"}' "$C" sig_ps 256 rsa1 max
tok ps256_salt0 '{"alg":"PS256","kid":"rsa1"}' "$C" sig_ps 256 rsa1 0
tok rs256_as_ps256 '{"alg":"PS256","kid":"rsa1"}' "$C" sig_rs 256 rsa1
tok rs384_as_rs256 '{"alg":"RS256","kid":"rsa1"}' "$C" sig_rs 384 rsa1

# --- attacks ---------------------------------------------------------------
RS=$(cut -d. -f3 <tok/rs256.jwt)
P=$(s64 "$C")
# alg none in any casing; with an empty or a borrowed signature
raw none_empty "$(s64 '{"alg":"none","typ":"JWT"}').$P."
for a in none None NONE nOnE; do
	raw "alg_$a" "$(s64 "{\"alg\":\"$a\",\"kid\":\"rsa1\"}").$P.$RS"
done
# algorithms off the allow-list, properly signed
tok alg_es512 '{"alg":"ES512","kid":"ec521"}' "$C" sig_es 512 ec521 66
tok alg_es256k '{"alg":"ES256K","kid":"ec256"}' "$C" sig_es 256 ec256 32
tok alg_rs256_lower '{"alg":"rs256","kid":"rsa1"}' "$C" sig_rs 256 rsa1
# algorithm confusion: HMAC keyed with public key bytes
cp jwks.json jwks.bin
tok hs256_pem '{"alg":"HS256","kid":"rsa1"}' "$C" sig_hs 256 rsa1.pub
tok hs256_jwks '{"alg":"HS256"}' "$C" sig_hs 256 jwks.bin
openssl rsa -pubin -in rsa1.pub -modulus -noout | sed 's/^Modulus=//' | unhex >rsa1.nbin
tok hs256_n '{"alg":"HS256","kid":"rsa1"}' "$C" sig_hs 256 rsa1.nbin
openssl pkey -pubin -in ed1.pub -outform DER | tail -c 32 >ed1.xbin
tok hs512_ed '{"alg":"HS512","kid":"ed1"}' "$C" sig_hs 512 ed1.xbin
# header parameters that let a token choose its key or rules
tok crit '{"alg":"RS256","kid":"rsa1","crit":["exp"],"exp":1}' "$C" sig_rs 256 rsa1
tok jku '{"alg":"RS256","kid":"rsa1","jku":"https://evil.test/jwks.json"}' "$C" \
    sig_rs 256 rsa-evil
tok x5u '{"alg":"RS256","kid":"rsa1","x5u":"https://evil.test/cert.pem"}' "$C" \
    sig_rs 256 rsa-evil
openssl req -new -x509 -key rsa-evil.pem -subj /CN=evil -days 2 -outform DER \
    -out evil.der 2>/dev/null
tok x5c "{\"alg\":\"RS256\",\"x5c\":[\"$(b64 <evil.der)\"]}" "$C" sig_rs 256 rsa-evil
tok jwk "{\"alg\":\"RS256\",\"jwk\":$(rsa_jwk rsa-evil evil '')}" "$C" \
    sig_rs 256 rsa-evil
tok jwk_kid "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"jwk\":$(rsa_jwk rsa-evil evil '')}" \
    "$C" sig_rs 256 rsa-evil
# typ other than JWT or at+jwt
tok typ_jose '{"alg":"RS256","kid":"rsa1","typ":"JOSE"}' "$C" sig_rs 256 rsa1
tok typ_jws '{"alg":"ES256","kid":"ec256","typ":"JWS"}' "$C" sig_es 256 ec256 32
tok typ_dpop '{"alg":"EdDSA","kid":"ed1","typ":"dpop+jwt"}' "$C" sig_ed ed1
# non-canonical base64url: the last character of a 256-byte signature
# carries 4 unused bits; set one
last=$(printf '%s' "$RS" | tail -c 1)
case $last in
A) nl=B ;; Q) nl=R ;; g) nl=h ;; w) nl=x ;;
*) echo "jwks_vectors.sh: unexpected last character $last" >&2; exit 1 ;;
esac
raw noncanon_sig "$(cut -d. -f1,2 <tok/rs256.jwt).${RS%?}$nl"
raw padded_sig "$(cat tok/rs256.jwt)=="
H=$(cut -d. -f1 <tok/rs256.jwt)
raw padded_hdr "$H=.$P.$RS"
# trailing data after the token, or after the JSON inside it
raw trail_dot "$(cat tok/rs256.jwt)."
raw trail_part "$(cat tok/rs256.jwt).e30"
raw trail_space "$(cat tok/rs256.jwt) "
tok trail_hdr_json '{"alg":"RS256","kid":"rsa1"}x' "$C" sig_rs 256 rsa1
tok trail_claims_json '{"alg":"RS256","kid":"rsa1"}' "$C{}" sig_rs 256 rsa1
# signatures of the wrong size: the same RSA signature value with a zero
# byte in front (still the same integer), or one byte short
RS_HEX=$(printf '%s' "$RS" | unb64u | hex)
IN=$(cut -d. -f1,2 <tok/rs256.jwt)
raw rs256_sig_zero_prefix "$IN.$(printf '00%s' "$RS_HEX" | unhex | b64u)"
raw rs256_sig_short "$IN.$(printf '%s' "$RS_HEX" | unhex | head -c 255 | b64u)"
tok es256_der '{"alg":"ES256","kid":"ec256"}' "$C" sig_es_der 256 ec256
es_in="$(s64 '{"alg":"ES256","kid":"ec256"}').$P"
ES_HEX=$(printf '%s' "$es_in" | sig_es_der 256 ec256 | der_to_rs_hex 32)
printf '%s' "$es_in.$(printf '%s' "$ES_HEX" | unhex | head -c 63 | b64u)" \
    >tok/es256_sig_63.jwt
printf '%s' "$es_in.$(printf '00%s' "$ES_HEX" | unhex | b64u)" \
    >tok/es256_sig_65.jwt
printf '%s' "$es_in.$(printf '%s' "$ES_HEX" | unhex | b64u)" \
    >tok/es256_recheck.jwt
ed_in="$(s64 '{"alg":"EdDSA","kid":"ed1"}').$P"
ED_HEX=$(printf '%s' "$ed_in" | sig_ed ed1 | hex)
printf '%s' "$ed_in.$(printf '%s' "$ED_HEX" | unhex | head -c 63 | b64u)" \
    >tok/eddsa_sig_63.jwt
# ECDSA r or s zero or out of range (n is the order of P-256 / P-384)
N256=FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
N384=FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973
Z32=0000000000000000000000000000000000000000000000000000000000000000
F32=FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
R=$(printf '%s' "$ES_HEX" | cut -c1-64)
S=$(printf '%s' "$ES_HEX" | cut -c65-128)
es_raw() { printf '%s' "$es_in.$(printf '%s%s' "$2" "$3" | unhex | b64u)" \
    >"tok/$1.jwt"; }
es_raw es256_rs_zero "$Z32" "$Z32"
es_raw es256_r_zero "$Z32" "$S"
es_raw es256_s_zero "$R" "$Z32"
es_raw es256_r_order "$N256" "$S"
es_raw es256_s_order "$R" "$N256"
es_raw es256_r_max "$F32" "$S"
es_raw es256_s_max "$R" "$F32"
es384_in="$(s64 '{"alg":"ES384","kid":"ec384"}').$P"
ES384_HEX=$(printf '%s' "$es384_in" | sig_es_der 384 ec384 | der_to_rs_hex 48)
printf '%s' "$es384_in.$(printf '%s%s' "$N384" "$(printf '%s' "$ES384_HEX" |
    cut -c97-192)" | unhex | b64u)" >tok/es384_r_order.jwt
# duplicate members in header or claims, properly signed
tok dup_hdr_alg '{"alg":"none","kid":"rsa1","alg":"RS256"}' "$C" sig_rs 256 rsa1
tok dup_hdr_kid '{"alg":"RS256","kid":"rsa-evil","kid":"rsa1"}' "$C" sig_rs 256 rsa1
tok dup_claim_exp '{"alg":"RS256","kid":"rsa1"}' \
    "$(claims ',"exp":9999999999')" sig_rs 256 rsa1
tok dup_claim_tenant '{"alg":"ES256","kid":"ec256"}' \
    "$(claims ',"org_id":"globex"')" sig_es 256 ec256 32
# exp that is not a number, properly signed
tok exp_string '{"alg":"RS256","kid":"rsa1"}' "$(claims '' '"1700003600"')" \
    sig_rs 256 rsa1
tok exp_null '{"alg":"ES256","kid":"ec256"}' "$(claims '' null)" \
    sig_es 256 ec256 32
tok exp_bool '{"alg":"EdDSA","kid":"ed1"}' "$(claims '' true)" sig_ed ed1
# the claims still count: expired, wrong issuer
tok rs256_expired '{"alg":"RS256","kid":"rsa1"}' "$(claims '' 1000000000)" \
    sig_rs 256 rsa1
tok es256_wrong_iss '{"alg":"ES256","kid":"ec256"}' \
    "{\"iss\":\"https://evil.test\",\"aud\":\"credstore\",\"org_id\":\"acme\",\"exp\":$exp}" \
    sig_es 256 ec256 32

rm -f in.bin der.bin jwks.bin
exit 0
