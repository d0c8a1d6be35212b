#!/usr/bin/env python3
"""Drives headless Chromium through the Chrome DevTools Protocol: loads a page, waits until an
element shows an expected text, checks that texts are present, records console errors and
uncaught exceptions, and takes screenshots. Exit status 1 on any failure.

usage: dashboard-cdp.py URL [--timeout S] STEP...
  --expect ID=TEXT       wait until #ID shows TEXT
  --contains TEXT        wait until the page shows TEXT
  --run COMMAND          run a shell command (e.g. to cause a scale-up) and go on
  --screenshot PATH WxH  save a PNG at that viewport size
"""
import base64, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request

try:
    import websocket  # websocket-client
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "websocket-client"])
    import websocket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="cdp-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--remote-debugging-port={self.port}", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=1))
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                if time.time() > deadline:
                    raise SystemExit("Chromium's DevTools endpoint did not come up")
                time.sleep(0.2)
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.errors = []
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.note(message)

    def note(self, message):
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details.get("text"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(params["entry"].get("text"))

    def pump(self, seconds):
        """Reads events for a while (console errors arrive as events)."""
        self.socket.settimeout(0.1)
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.note(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                pass
        self.socket.settimeout(30)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def close(self):
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)


def main():
    """Steps run in the order given, on one page load (so a change shows the page updating live)."""
    argv = sys.argv[1:]
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 64
    url, steps, timeout = argv[0], [], 30.0
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    index = 1
    while index < len(argv):
        flag = argv[index]
        if flag in ("--expect", "--contains", "--run"):
            steps.append((flag, argv[index + 1]))
            index += 2
        elif flag == "--screenshot":
            steps.append((flag, (argv[index + 1], argv[index + 2])))
            index += 3
        elif flag == "--timeout":
            timeout = float(argv[index + 1])
            index += 2
        else:
            print(f"unknown argument {flag}", file=sys.stderr)
            return 64

    browser = Browser(binary)
    failures = []
    try:
        browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=1500, deviceScaleFactor=1, mobile=False)
        browser.call("Page.navigate", url=url)
        browser.pump(2)
        for flag, value in steps:
            if flag == "--expect":
                element, text = value.split("=", 1)
                deadline = time.time() + timeout
                shown = None
                while time.time() < deadline:
                    shown = browser.evaluate(f"(document.getElementById({json.dumps(element)}) || {{}}).textContent")
                    if shown == text:
                        break
                    browser.pump(0.3)
                if shown != text:
                    failures.append(f"#{element} shows {shown!r}, expected {text!r}")
                    break
                print(f"#{element} shows {text}")
            elif flag == "--contains":
                deadline = time.time() + timeout
                while not browser.evaluate(f"document.body.innerText.includes({json.dumps(value)})") and time.time() < deadline:
                    browser.pump(0.3)
                if browser.evaluate(f"document.body.innerText.includes({json.dumps(value)})"):
                    print(f"the page shows {value!r}")
                else:
                    failures.append(f"the page does not show {value!r}")
            elif flag == "--run":
                print(f"run: {value}")
                subprocess.run(value, shell=True, check=True)
            elif flag == "--screenshot":
                path, size = value
                width, height = (int(v) for v in size.split("x"))
                browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 600)
                browser.pump(1.5)  # layout, and the charts redrawn at the new width
                data = browser.call("Page.captureScreenshot", format="png")["data"]
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                with open(path, "wb") as file:
                    file.write(base64.b64decode(data))
                print(f"screenshot {path} ({width}x{height})")
        recorded = browser.evaluate("document.body.dataset.errors")
        if recorded not in ("0", None):
            failures.append(f"the page recorded {recorded} script errors")
        browser.pump(0.5)
        failures.extend(f"console: {error}" for error in browser.errors)
    finally:
        browser.close()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
