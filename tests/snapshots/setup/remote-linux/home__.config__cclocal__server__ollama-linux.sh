#!/bin/sh
# Applies cclocal's Ollama settings on a Linux host where Ollama runs as the systemd
# service `ollama` (the official installer's setup). Run it as root:
#   sudo sh ollama-linux.sh
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "run this script as root (sudo sh $0)" >&2
    exit 1
fi
mkdir -p /etc/systemd/system/ollama.service.d
cat > /etc/systemd/system/ollama.service.d/cclocal.conf <<'CCLOCAL_EOF'
# Written by `cclocal setup`: the Ollama server settings Claude Code needs.
# Takes effect after `systemctl daemon-reload && systemctl restart ollama`.
[Service]
Environment="OLLAMA_CONTEXT_LENGTH=65536"
Environment="OLLAMA_FLASH_ATTENTION=1"
Environment="OLLAMA_KV_CACHE_TYPE=q8_0"
Environment="OLLAMA_KEEP_ALIVE=30m"
CCLOCAL_EOF
chmod 0644 /etc/systemd/system/ollama.service.d/cclocal.conf
systemctl daemon-reload
systemctl restart ollama
echo 'Ollama restarted with OLLAMA_CONTEXT_LENGTH=65536 OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0 OLLAMA_KEEP_ALIVE=30m'
