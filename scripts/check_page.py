"""The browser half of scripts/check-page.sh (run it through that script,
which installs the tools): drives the page at GET / in Debian's chromium with
Playwright. Usage: python check_page.py <lossd-binary> <chromium>"""
import functools, http.server, json, os, re, subprocess, sys, tempfile, threading, time
import urllib.request

import yaml
from playwright.sync_api import sync_playwright

binary, chromium = sys.argv[1], sys.argv[2]
ARTIFACTS = os.path.join("artifacts", "page")
os.makedirs(ARTIFACTS, exist_ok=True)
failures, passes = [], []


def check(ok, what, why=""):
    (passes if ok else failures).append(what + ("" if ok else ": " + str(why)))
    print(("PASS " if ok else "FAIL ") + what + ("" if ok or not why else " -- " + str(why)), flush=True)


def curl(base, path, body):
    out = subprocess.run(["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json",
                          "--data-binary", body, base + path], capture_output=True, text=True, timeout=10)
    return json.loads(out.stdout)


def wait_until(page, expression, timeout=10.0):
    """Polls `expression` with page.evaluate (wait_for_function would evaluate a
    string inside the page, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.1)
    raise TimeoutError("timed out waiting for " + expression)


def strip_aliases(node):
    """PyYAML's reading with the aliases (options: *preflight) left out, as the page's reader leaves them."""
    if isinstance(node, dict):
        return {k: strip_aliases(v) for k, v in node.items() if k != "options"}
    if isinstance(node, list):
        return [strip_aliases(v) for v in node]
    return node


# The cross-origin caller: a page on another port that fetches lossd.
CROSS_ORIGIN_HTML = """<!doctype html><meta charset="utf-8"><title>caller</title>
<script src="caller.js"></script><p id="out">waiting</p>"""
CROSS_ORIGIN_JS = """
(async () => {
  const lossd = new URLSearchParams(location.search).get("lossd");
  const call = async (body) => {
    const r = await fetch(lossd + "/loss/bce", {method: "POST", headers: {"Content-Type": "application/json"}, body});
    return {status: r.status, type: r.headers.get("Content-Type"), json: await r.json()};
  };
  try {
    window.results = {
      ok: await call('{"predictions": [0.9, 0.2, 0.6], "targets": [1, 0, 1]}'),
      problem: await call('{"predictions": [0.9, 0.2], "targets": [1, 0, 1]}'),
    };
  } catch (e) { window.results = {error: String(e)}; }
  document.getElementById("out").textContent = JSON.stringify(window.results);
})();
"""

processes, servers = [], []
try:
    lossd = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", "0", "--log-level", "warning"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    processes.append(lossd)
    line = lossd.stdout.readline().decode()
    if "listening on" not in line:
        raise RuntimeError("lossd did not start: %r" % line)
    base = "http://127.0.0.1:%d" % int(line.rsplit(":", 1)[1])
    document = yaml.safe_load(urllib.request.urlopen(base + "/openapi.yaml", timeout=5).read())

    other = tempfile.mkdtemp(prefix="check-page-")
    with open(os.path.join(other, "caller.html"), "w") as f:
        f.write(CROSS_ORIGIN_HTML)
    with open(os.path.join(other, "caller.js"), "w") as f:
        f.write(CROSS_ORIGIN_JS)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=other)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    servers.append(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    other_origin = "http://127.0.0.1:%d" % server.server_address[1]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"], timeout=30000)
        console = []

        def watch(page):
            page.on("console", lambda m: console.append((m.type, m.text)) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
            page.add_init_script("window.cspViolations = [];"
                                 "document.addEventListener('securitypolicyviolation',"
                                 " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")

        desktop = browser.new_context(viewport={"width": 1280, "height": 900})
        page = desktop.new_page()
        watch(page)
        page.goto(base + "/")
        page.wait_for_selector("#send:not([disabled])", timeout=10000)
        page.wait_for_timeout(500)
        check(page.title() == "lossd", "GET / is the page (title %r)" % page.title())
        check(not console, "the page loads with no console error or warning", console)
        check(page.evaluate("window.cspViolations") == [], "no Content-Security-Policy violation",
              page.evaluate("window.cspViolations"))

        # The page's YAML reader against PyYAML, on the document lossd serves.
        theirs = page.evaluate("fetch('/openapi.yaml').then(r => r.text()).then(readYAML)")
        check(strip_aliases(theirs) == strip_aliases(document), "the page reads /openapi.yaml as PyYAML does")

        # Each loss's members are its request schema's properties.
        schemas = document["components"]["schemas"]
        expected = {}
        for path, item in document["paths"].items():
            post = item.get("post") or {}
            media = post.get("requestBody", {}).get("content", {}).get("application/json")
            if media and "oip" not in post.get("tags", []):  # the Open Inference Protocol's are no loss routes
                schema = schemas[media["schema"]["$ref"].rsplit("/", 1)[1]]
                if "properties" in schema:  # POST /loss (a batch) takes an array: no loss of its own
                    expected[path] = list(schema["properties"])
        options = page.eval_on_selector_all("#loss option", "os => os.map(o => o.value)")
        check(options == list(expected), "the loss list is the description's: %s" % options, expected)
        for path in options:
            page.select_option("#loss", path)
            members = page.eval_on_selector_all("#members tbody tr", "rs => rs.map(r => r.dataset.member)")
            check(members == expected[path], "%s members from the description: %s" % (path, members), expected[path])

        # Cross entropy from the form with the keyboard alone: Tab to the loss
        # list, pick /loss/ce with the arrow keys, Tab to the body, type it,
        # Ctrl+Enter.
        ce_body = '{"predictions": [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "targets": [0, 2], "label_smoothing": 0.1}'
        page.select_option("#loss", options[-1])
        page.focus("body")
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "loss":
                break
        check(page.evaluate("document.activeElement.id") == "loss", "Tab reaches the loss list")
        for _ in range(len(options)):
            if page.eval_on_selector("#loss", "s => s.value") == "/loss/ce":
                break
            page.keyboard.press("ArrowUp")
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "body":
                break
        check(page.evaluate("document.activeElement.id") == "body", "Tab reaches the request body")
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(ce_body)
        page.keyboard.press("Control+Enter")
        wait_until(page, "document.getElementById('status').textContent.startsWith('200')")
        shown = json.loads(page.text_content("#result"))
        expected_ce = curl(base, "/loss/ce", ce_body)
        check(page.eval_on_selector("#loss", "s => s.value") == "/loss/ce" and shown == expected_ce,
              "CE from the form shows curl's result (loss %s)" % shown.get("loss"), (shown, expected_ce))
        page.screenshot(path=os.path.join(ARTIFACTS, "desktop-result.png"), full_page=True)

        # A malformed body: its problem, with the offending byte marked.
        page.select_option("#loss", "/loss/bce")
        bad = '{"predictions": [0.9,\n  0.2,, 0.6], "targets": [1, 0, 1]}'
        page.fill("#body", bad)
        page.click("#send")
        page.wait_for_selector("#problem:not([hidden])", timeout=10000)
        detail = page.text_content("#problem-detail")
        offset = int(re.search(r"at byte (\d+)", detail).group(1))
        marked = page.text_content("#offending-byte")
        check(page.text_content("#status").startswith("400") and offset == bad.index(",,") + 1 and marked == ",",
              "a malformed body shows its problem (%r) with byte %d marked (%r)" % (detail, offset, marked))
        check(page.text_content("#problem-body") == bad, "the marked body is the body sent")
        check("line 2, column 7" in page.text_content("#problem-where"), "the mark's line and column are given",
              page.text_content("#problem-where"))

        # The metrics panel draws: two polls, then ink on each canvas.
        wait_until(page, "Number(document.getElementById('chart-rate').dataset.points || 0) >= 2")
        ink = page.evaluate("""['chart-rate', 'chart-latency', 'chart-errors'].map(id => {
            const c = document.getElementById(id), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n++; return n; })""")
        check(all(n > 300 for n in ink), "the metrics panel draws (%s inked pixels per chart)" % ink)
        check("4xx" in page.text_content("#now-errors"), "the errors chart has a reading",
              page.text_content("#now-errors"))
        page.screenshot(path=os.path.join(ARTIFACTS, "desktop-problem.png"), full_page=True)
        bad_requests = [c for c in console if "status of 400" not in c[1]]
        check(not bad_requests and page.evaluate("window.cspViolations") == [],
              "no console error but the deliberate 400's, no CSP violation", console)

        # A phone-sized screen: one column, nothing wider than the screen.
        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)
        mobile = phone.new_page()
        console.clear()
        watch(mobile)
        mobile.goto(base + "/")
        mobile.wait_for_selector("#send:not([disabled])", timeout=10000)
        mobile.click("#gen-seg")
        shape = mobile.evaluate("(() => { const b = JSON.parse(document.getElementById('body').value);"
                                " return [b.predictions.length, b.predictions[0].length, b.predictions[0][0].length,"
                                " b.predictions[0][0][0].length]; })()")
        mobile.click("#send")
        wait_until(mobile, "/^[0-9]{3}/.test(document.getElementById('status').textContent)")
        check(mobile.text_content("#status").startswith("200") and shape[0] == 1 and shape[2:] == [8, 8],
              "a generated segmentation map (shape %s) is scored" % shape, mobile.text_content("#status"))
        width = mobile.evaluate("document.documentElement.scrollWidth")
        check(width <= 390, "on a 390 px screen nothing overflows sideways (page %d px wide)" % width)
        mobile.wait_for_timeout(2500)
        mobile.screenshot(path=os.path.join(ARTIFACTS, "phone.png"), full_page=True)
        check(not console, "no console error on the phone", console)

        # Another origin calls lossd with fetch (CORS), reads a result and a 422.
        caller = desktop.new_page()
        caller.goto("%s/caller.html?lossd=%s" % (other_origin, base))
        wait_until(caller, "window.results !== undefined")
        results = caller.evaluate("window.results")
        expected_bce = curl(base, "/loss/bce", '{"predictions": [0.9, 0.2, 0.6], "targets": [1, 0, 1]}')
        check(results.get("ok", {}).get("status") == 200 and results["ok"]["json"] == expected_bce,
              "a page from %s reads /loss/bce's result over CORS (loss %s)" % (other_origin, results.get("ok", {}).get("json", {}).get("loss")), results)
        problem = results.get("problem", {})
        check(problem.get("status") == 422 and problem.get("type") == "application/problem+json"
              and problem["json"].get("status") == 422 and problem["json"].get("detail"),
              "and reads a 422 problem: %s" % problem.get("json", {}).get("detail"), results)
        browser.close()
finally:
    for server in servers:
        server.shutdown()
    for p in processes:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()

print("\ncheck-page: %d passed, %d failed; screenshots in %s" % (len(passes), len(failures), ARTIFACTS))
for failure in failures:
    print("  FAIL " + failure)
print("FAIL" if failures else "PASS")
sys.exit(1 if failures else 0)
