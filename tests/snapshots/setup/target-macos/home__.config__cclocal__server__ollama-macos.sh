#!/bin/sh
# Applies cclocal's Ollama settings on a Mac where the Ollama app runs. Run it as the user
# who runs Ollama, in that user's desktop session (launchctl's gui domain is not reachable
# from every ssh session):
#   sh ollama-macos.sh
set -eu
agents="$HOME/Library/LaunchAgents"
plist="$agents/com.cclocal.ollama-env.plist"
mkdir -p "$agents"
cat > "$plist" <<'CCLOCAL_EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>com.cclocal.ollama-env</string>
	<key>ProgramArguments</key>
	<array>
		<string>/bin/sh</string>
		<string>-c</string>
		<string>/bin/launchctl setenv OLLAMA_CONTEXT_LENGTH 65536; /bin/launchctl setenv OLLAMA_FLASH_ATTENTION 1; /bin/launchctl setenv OLLAMA_KV_CACHE_TYPE q8_0; /bin/launchctl setenv OLLAMA_KEEP_ALIVE 30m</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
</dict>
</plist>
CCLOCAL_EOF
chmod 0644 "$plist"
launchctl bootout "gui/$(id -u)/com.cclocal.ollama-env" 2>/dev/null || true
launchctl bootstrap "gui/$(id -u)" "$plist"
echo 'Set OLLAMA_CONTEXT_LENGTH=65536 OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0 OLLAMA_KEEP_ALIVE=30m. Quit Ollama from the menu bar and open it again so that it reads them.'
