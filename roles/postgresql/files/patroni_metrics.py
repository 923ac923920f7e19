# Managed by kaizen.hybrid.postgresql. Patroni's metrics for the node
# exporter's textfile collector:
#   python3 patroni_metrics.py URL CA_FILE OUTPUT
# Patroni 3.0.2 (Debian's) writes "None" for the timeline of a replica, which
# no Prometheus accepts: the whole scrape would fail. This copies every
# sample that has a number and drops the others, adds kaizen_patroni_up (1
# when the REST API answered, 0 otherwise) and replaces OUTPUT atomically.
import os
import ssl
import sys
import tempfile
import urllib.request


def samples(text):
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            yield line
            continue
        if " " not in line:
            continue
        head, value = line.rsplit(" ", 1)
        try:
            float(value)
        except ValueError:
            continue
        # "name {labels} value" (a space before the labels) as "name{labels} value".
        yield "%s %s" % (head.replace(" {", "{"), value)


def main():
    url, ca_file, output = sys.argv[1:4]
    lines = []
    up = 0
    try:
        context = ssl.create_default_context(cafile=ca_file)
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            lines = list(samples(response.read().decode("utf-8", "replace")))
        up = 1
    except (OSError, ValueError):
        pass
    lines += ["# HELP kaizen_patroni_up 1 if Patroni's REST API answered the last read, 0 otherwise.",
              "# TYPE kaizen_patroni_up gauge", "kaizen_patroni_up %d" % up]
    directory = os.path.dirname(output)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".kaizen_patroni.")
    with os.fdopen(handle, "w") as stream:
        stream.write("\n".join(lines) + "\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, output)


if __name__ == "__main__":
    main()
