"""`reportgen serve`: watcher, preview state, handler, and one real server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.site import serve

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0  # seconds: a bound for every wait below


def lay_out(tmp_path: Path) -> Path:
    """A project with the example report and a fast site.yml."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "reports" / "bhyve-smp", project / "reports" / "bhyve-smp")
    (project / "site.yml").write_text("title: preview\nreports: reports/*\n")
    return project


def quiet(lines: list[str]) -> Callable[[str], None]:
    return lines.append


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def touch_later(path: Path, text: str) -> None:
    """Write ``text`` with an mtime that surely differs from the previous one."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


# --- Watcher -------------------------------------------------------------------

def test_watcher_sees_edits_new_and_deleted_files(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("a")
    (tmp_path / "dir").mkdir()
    watched = [tmp_path / "a.yml", tmp_path / "dir"]
    watcher = serve.Watcher(lambda: watched)
    assert not watcher.changed()
    touch_later(tmp_path / "a.yml", "b")
    assert watcher.changed() and not watcher.changed()
    (tmp_path / "dir" / "new.html").write_text("x")
    assert watcher.changed() and not watcher.changed()
    (tmp_path / "dir" / "new.html").unlink()
    assert watcher.changed() and not watcher.changed()
    (tmp_path / "a.yml").write_text("longer")  # same mtime possible, size differs
    assert watcher.changed()


def test_input_files_follow_site_yml(tmp_path: Path) -> None:
    project = lay_out(tmp_path)
    files = serve.InputFiles(project / "site.yml")
    report = project / "reports" / "bhyve-smp"
    found = files()
    assert project / "site.yml" in found
    assert report / "report.yml" in found
    assert report / "results" / "guest.json" in found and report / "results" / "native.json" in found
    assert any(p.name == "templates" for p in found)
    (project / "site.yml").write_text("reports: [")  # broken: keep the last known reports
    assert report / "report.yml" in files()


# --- Preview -------------------------------------------------------------------

def test_preview_keeps_last_good_output_and_error(tmp_path: Path) -> None:
    project = lay_out(tmp_path)
    lines: list[str] = []
    out = tmp_path / "out"
    preview = serve.Preview(project / "site.yml", out, ("html",), quiet(lines))
    assert preview.rebuild() and preview.error is None
    page = (out / "bhyve-smp" / "index.html").read_bytes()
    report = project / "reports" / "bhyve-smp" / "report.yml"
    good = report.read_text()
    report.write_text(good.replace("{{ syscall.getpid.ratio }}", "{{ syscall.getpid.rattio }}"))
    assert not preview.rebuild()
    assert preview.error is not None and "reports/bhyve-smp/report.yml:" in preview.error
    assert "rattio" in preview.error
    assert any("build failed" in line for line in lines)
    assert (out / "bhyve-smp" / "index.html").read_bytes() == page
    report.write_text(good)
    assert preview.rebuild() and preview.error is None
    assert preview.builds == 3


def test_preview_prints_only_warnings_new_since_its_last_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first build says each kind of warning once; a rebuild says only what
    is new: not what is still there, even moved down by an edit above it, nor
    what a failed build in between had hidden."""
    project = lay_out(tmp_path)
    monkeypatch.chdir(project)
    lines: list[str] = []
    preview = serve.Preview(Path("site.yml"), tmp_path / "out", ("txt",), quiet(lines))
    report = project / "reports" / "bhyve-smp" / "report.yml"
    intro = "intro: |\n"
    typed = intro + "  It took 12.5 ns, then 13.5 ns. TODO say more.\n"
    touch_later(report, report.read_text().replace(intro, typed))

    def warnings() -> list[str]:
        said = [line for line in lines if ": warning: " in line]
        lines.clear()
        return said

    assert preview.rebuild()
    figure = ("reports/bhyve-smp/report.yml:{}: warning: figure '{}' typed by hand matches no "
              "figure of the report (nearest: {}); write it with a placeholder")
    assert warnings() == [
        figure.format("14:11", "12.5 ns", "46.0 ns, syscall.getpid in native")
        + " (and 1 more like it; --verbose lists them)",
        ("reports/bhyve-smp/report.yml:14:34: warning: TODO left from `reportgen new`: replace "
         "it with your own words")]

    touch_later(report, report.read_text().replace(intro, intro + "  A line above.\n"))
    assert preview.rebuild()
    assert warnings() == []  # the same three, a line further down

    good = report.read_text()
    touch_later(report, good.replace("{{ syscall.getpid.ratio }}", "{{ syscall.getpid.rattio }}"))
    assert not preview.rebuild()
    touch_later(report, good.replace("then 13.5 ns.", "then 13.5 ns, and 99 us."))
    assert preview.rebuild()
    assert warnings() == [figure.format("15:38", "99 us", "87.0 us, process.fork_wait in native")]

    every = serve.Preview(Path("site.yml"), tmp_path / "out2", ("txt",), quiet(lines),
                          verbose=True)
    assert every.rebuild()
    assert [line.split(": warning: ")[1][:12] for line in warnings()] == [
        "figure '12.5", "figure '13.5", "figure '99 u", "TODO left fr"]


def test_preview_survives_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(serve.build_mod, "build", boom)
    lines: list[str] = []
    preview = serve.Preview(tmp_path / "site.yml", tmp_path / "out", ("html",), quiet(lines))
    assert not preview.rebuild()
    assert preview.error == "internal error: RuntimeError: renderer bug"
    assert any("Traceback" in line for line in lines)


def test_error_page_escapes_problems() -> None:
    body = serve.error_page("r.yml:1:2: bad <script>alert(1)</script> & more\n").decode()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in body
    assert "<li><code>r.yml:1:2:" in body


# --- a real server on 127.0.0.1 ------------------------------------------------

@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, serve.Preview, str]]:
    """Build, serve on an ephemeral port and watch, each in its own thread."""
    project = lay_out(tmp_path)
    out = tmp_path / "out"
    (tmp_path / "secret.txt").write_text("outside")
    lines: list[str] = []
    preview = serve.Preview(project / "site.yml", out, ("html", "txt"), quiet(lines))
    server = serve.make_server(preview, port=0)
    watcher = serve.Watcher(serve.InputFiles(project / "site.yml"))
    assert preview.rebuild(), lines
    stop = threading.Event()
    threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}),
               threading.Thread(target=serve.watch, args=(preview, watcher, stop, 0.1))]
    for thread in threads:
        thread.start()
    try:
        yield project, preview, serve.url(server)
    finally:
        stop.set()
        server.shutdown()
        for thread in threads:
            thread.join(timeout=TIMEOUT)
        server.server_close()
        assert not any(t.is_alive() for t in threads)


def test_serve_rebuild_error_page_and_recovery(
        running: tuple[Path, serve.Preview, str]) -> None:
    project, preview, base = running
    assert base.startswith("http://127.0.0.1:")
    status, body = fetch(base + "bhyve-smp/")
    assert status == 200 and "getpid" in body
    status, index = fetch(base)
    assert status == 200 and "bhyve-smp" in index

    report = project / "reports" / "bhyve-smp" / "report.yml"
    good = report.read_text()
    builds = preview.builds
    touch_later(report, good.replace("baseline: native", "baseline: [native"))
    wait_for(lambda: preview.builds > builds, "the rebuild after breaking report.yml")
    status, body = fetch(base + "bhyve-smp/")
    assert status == 500
    assert "The build failed" in body and "reports/bhyve-smp/report.yml:" in body
    assert fetch(base + "index.html")[0] == 500
    status, text = fetch(base + "bhyve-smp/report.txt")  # the last good build, still there
    assert status == 200 and "getpid" in text

    builds = preview.builds
    touch_later(report, good)
    wait_for(lambda: preview.builds > builds, "the rebuild after fixing report.yml")
    status, body = fetch(base + "bhyve-smp/")
    assert status == 200 and "The build failed" not in body and "getpid" in body


def test_served_pages_reload_after_a_good_build_files_on_disk_never(
        running: tuple[Path, serve.Preview, str]) -> None:
    project, preview, base = running
    out = preview.output
    for path in ("", "bhyve-smp/", "bhyve-smp/index.html"):
        status, body = fetch(base + path)
        assert status == 200
        assert body.count("<script>") == 1 and serve.GENERATION_PATH in body
        assert body.index("<script>") < body.index("</body>")
    assert fetch(base + serve.GENERATION_PATH) == (200, str(preview.generation))
    assert "<script" not in fetch(base + "bhyve-smp/report.txt")[1]
    pages = sorted(out.rglob("*.html"))
    assert pages and not any(b"<script" in p.read_bytes() for p in pages)

    before = preview.generation
    report = project / "reports" / "bhyve-smp" / "report.yml"
    builds = preview.builds
    touch_later(report, report.read_text() + "\n")
    wait_for(lambda: preview.builds > builds, "the rebuild after an edit")
    assert fetch(base + serve.GENERATION_PATH) == (200, str(before + 1))
    assert f'var seen = "{before + 1}"' in fetch(base)[1]

    builds = preview.builds
    touch_later(report, report.read_text().replace("baseline: native", "baseline: [native"))
    wait_for(lambda: preview.builds > builds, "the failed rebuild")
    assert fetch(base + serve.GENERATION_PATH) == (200, str(before + 1))  # no reload


def test_serve_stays_inside_the_output(running: tuple[Path, serve.Preview, str]) -> None:
    _project, _preview, base = running
    for path in ("../secret.txt", "%2e%2e/secret.txt", "bhyve-smp/../../secret.txt"):
        status, body = fetch(base + path)
        assert "outside" not in body
        assert status == 404


def test_symlink_out_of_the_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    (out / "link.txt").symlink_to(tmp_path / "secret.txt")
    preview = serve.Preview(tmp_path / "site.yml", out, ("html",), quiet([]))
    server = serve.make_server(preview, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        assert fetch(serve.url(server) + "link.txt")[0] == 404
    finally:
        server.shutdown()
        thread.join(timeout=TIMEOUT)
        server.server_close()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    preview = serve.Preview(tmp_path / "site.yml", tmp_path, ("html",), quiet([]))
    first = serve.make_server(preview, port=0)
    try:
        port = first.server_address[1]
        with pytest.raises(serve.ServeError, match=rf"cannot listen on 127.0.0.1:{port}: "):
            serve.make_server(preview, port=port)
    finally:
        first.server_close()


def test_serve_command_stops_cleanly_on_ctrl_c(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = lay_out(tmp_path)
    monkeypatch.chdir(project)
    seen: dict[str, object] = {}

    def interrupt(self: object, poll_interval: float = 0.5) -> None:
        seen["url"] = serve.url(self)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(serve.ThreadingHTTPServer, "serve_forever", interrupt)
    made: list[Path] = []
    real_mkdtemp = serve.tempfile.mkdtemp

    def mkdtemp(**kwargs: str) -> str:
        made.append(Path(real_mkdtemp(**kwargs)))
        return str(made[-1])

    monkeypatch.setattr(serve.tempfile, "mkdtemp", mkdtemp)
    done = CliRunner().invoke(main, ["serve", "--port", "0", "--formats", "html"])
    assert done.exit_code == 130, done.output
    assert "serving " in done.output and f"at {seen['url']} (Ctrl-C to stop)" in done.output
    assert done.output.endswith("stopping\nreportgen: stopped by signal 2 (SIGINT)\n")
    assert made and not made[0].exists()  # the temporary output is gone


def test_serve_command_rejects_bad_formats(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["serve", "--formats", "html,docx"])
    assert done.exit_code == 2 and "expected a comma-separated list" in done.output
