/** The k3s section of the stack config: defaults, the stack files' values, and one clear error per bad key. */
import { CONFIG_DEFAULTS, ConfigReader, readK3s } from "../../infra/config";
import {
  DEFAULT_JOIN_TIMEOUT_SECONDS,
  DEFAULT_K3S_INSTALLER_URL,
  DEFAULT_K3S_VERSION,
  DEFAULT_READY_TIMEOUT_SECONDS,
} from "../../infra/k3s/install-defaults";
import { mapSource, stackFileKeys, stackValues } from "../support/configSource";

function readWith(values: Record<string, string>) {
  const r = new ConfigReader(mapSource(values), CONFIG_DEFAULTS);
  return { k3s: readK3s(r), problems: r.problems };
}

describe("k3s config", () => {
  test("defaults: a pinned 1.32 release from get.k3s.io, 15 min join wait, 20 min readiness wait", () => {
    expect(readWith({})).toEqual({
      k3s: {
        version: DEFAULT_K3S_VERSION,
        installerUrl: DEFAULT_K3S_INSTALLER_URL,
        joinTimeoutSeconds: DEFAULT_JOIN_TIMEOUT_SECONDS,
        readyTimeoutSeconds: DEFAULT_READY_TIMEOUT_SECONDS,
      },
      problems: [],
    });
    expect(DEFAULT_K3S_VERSION).toBe("v1.32.11+k3s3");
    expect(DEFAULT_JOIN_TIMEOUT_SECONDS).toBe(900);
    expect(DEFAULT_READY_TIMEOUT_SECONDS).toBe(1200);
  });

  test.each(["dev", "prod"])("Pulumi.%s.yaml gives a valid k3s section; prod pins the version in its stack file", (stack) => {
    const values = stackValues(stack);
    const { k3s, problems } = readWith(values);
    expect(problems).toEqual([]);
    expect(k3s.version).toBe("v1.32.11+k3s3");
    expect(stackFileKeys(stack).includes("k3sVersion")).toBe(stack === "prod");
  });

  test("a mirror and other timeouts are accepted", () => {
    expect(
      readWith({
        k3sInstallerUrl: "https://mirror.example.org/k3s/install.sh",
        k3sJoinTimeoutSeconds: "120",
        k3sReadyTimeoutSeconds: "3600",
        k3sVersion: "v1.31.14+k3s1",
      }),
    ).toEqual({
      k3s: {
        version: "v1.31.14+k3s1",
        installerUrl: "https://mirror.example.org/k3s/install.sh",
        joinTimeoutSeconds: 120,
        readyTimeoutSeconds: 3600,
      },
      problems: [],
    });
  });

  test.each([
    [
      "k3sVersion",
      "1.32.11",
      'image-pipeline:k3sVersion: must be a k3s release tag such as v1.32.11+k3s3 (see github.com/k3s-io/k3s/releases), got "1.32.11". Fix: pulumi config set k3sVersion v1.32.11+k3s3',
    ],
    [
      "k3sVersion",
      "latest",
      'image-pipeline:k3sVersion: must be a k3s release tag such as v1.32.11+k3s3 (see github.com/k3s-io/k3s/releases), got "latest". Fix: pulumi config set k3sVersion v1.32.11+k3s3',
    ],
    [
      "k3sInstallerUrl",
      "http://get.k3s.io",
      'image-pipeline:k3sInstallerUrl: must be an https:// URL of the k3s install script (nodes run what it serves as root), got "http://get.k3s.io". Fix: pulumi config set k3sInstallerUrl https://get.k3s.io, or your mirror\'s https URL',
    ],
    [
      "k3sInstallerUrl",
      "get.k3s.io",
      'image-pipeline:k3sInstallerUrl: must be an https:// URL of the k3s install script (nodes run what it serves as root), got "get.k3s.io". Fix: pulumi config set k3sInstallerUrl https://get.k3s.io, or your mirror\'s https URL',
    ],
    [
      "k3sJoinTimeoutSeconds",
      "30",
      'image-pipeline:k3sJoinTimeoutSeconds: must be a whole number from 60 to 3600, got "30". Fix: pulumi config set k3sJoinTimeoutSeconds 900',
    ],
    [
      "k3sReadyTimeoutSeconds",
      "20m",
      'image-pipeline:k3sReadyTimeoutSeconds: must be a whole number from 60 to 7200, got "20m". Fix: pulumi config set k3sReadyTimeoutSeconds 1200',
    ],
  ])("%s=%s is refused with the key, the problem and the fix", (key, value, message) => {
    expect(readWith({ [key]: value }).problems).toEqual([message]);
  });
});
