# Sourced by the run command (scripts/run.sh): the embedded setup's keys, generated once and
# kept under $GUILDOPS_VAR_DIR (mode 600), unless the environment already sets them.
#   SECRET_KEY            Django's: admin sessions survive restarts.
#   FIELD_ENCRYPTION_KEY  encrypts the secrets officers set in the admin (Raid-Helper key, Blizzard and
#                         Warcraft Logs credentials), so they can be saved out of the box and stay readable.
# tests/core/test_secret_settings.py runs it and then saves a key in the admin with Chromium.
if [ -z "${SECRET_KEY:-}" ]; then
  # A stable local key, so admin sessions survive restarts of the embedded setup.
  [ -f "$GUILDOPS_VAR_DIR/secret-key.txt" ] || (umask 077; head -c 48 /dev/urandom | base64 > "$GUILDOPS_VAR_DIR/secret-key.txt")
  SECRET_KEY=$(cat "$GUILDOPS_VAR_DIR/secret-key.txt"); export SECRET_KEY
fi
if [ -z "${FIELD_ENCRYPTION_KEY:-}" ]; then
  # Likewise a stable local key for the secrets officers set in the admin (Raid-Helper key,
  # Blizzard and Warcraft Logs credentials): kept beside the secret key, so they stay readable.
  [ -f "$GUILDOPS_VAR_DIR/field-encryption-key.txt" ] || (umask 077; head -c 48 /dev/urandom | base64 > "$GUILDOPS_VAR_DIR/field-encryption-key.txt")
  FIELD_ENCRYPTION_KEY=$(cat "$GUILDOPS_VAR_DIR/field-encryption-key.txt"); export FIELD_ENCRYPTION_KEY
fi

