/** The k3s section of the stack config: defaults, the stack files' values, the pins, and one clear error per bad key. */
import { CONFIG_DEFAULTS, ConfigReader, readK3s } from "../../infra/config";
import {
  DEFAULT_JOIN_TIMEOUT_SECONDS,
  DEFAULT_K3S_VERSION,
  DEFAULT_READY_TIMEOUT_SECONDS,
  K3S_RELEASE_PINS,
} from "../../infra/k3s/install-defaults";
import { mapSource, stackFileKeys, stackValues } from "../support/configSource";

function readWith(values: Record<string, string>) {
  const r = new ConfigReader(mapSource(values), CONFIG_DEFAULTS);
  return { k3s: readK3s(r), problems: r.problems };
}

const PINNED = {
  installer: "46177d4c99440b4c0311b67233823a8e8a2fc09693f6c89af1a7161e152fbfad",
  binary: "65a55ec56c24eab44383086166ec620a491952b7e23941a49ddca6e8a4c4b4de",
  images: "da6a3b2dbd55cc368d930078ae8814ed22eb9c92247f7b9b46bf073445ff55b3",
};
const OTHER = { installer: "a".repeat(64), binary: "b".repeat(64), images: "c".repeat(64) };

describe("k3s config", () => {
  test("defaults: a supported 1.36 release, its installer at the release tag, every download pinned by sha256", () => {
    expect(readWith({})).toEqual({
      k3s: {
        version: "v1.36.2+k3s1",
        installer: { url: "https://raw.githubusercontent.com/k3s-io/k3s/v1.36.2%2Bk3s1/install.sh", sha256: PINNED.installer },
        binary: { url: "https://github.com/k3s-io/k3s/releases/download/v1.36.2%2Bk3s1/k3s", sha256: PINNED.binary },
        airgapImages: {
          url: "https://github.com/k3s-io/k3s/releases/download/v1.36.2%2Bk3s1/k3s-airgap-images-amd64.tar.zst",
          sha256: PINNED.images,
        },
        joinTimeoutSeconds: DEFAULT_JOIN_TIMEOUT_SECONDS,
        readyTimeoutSeconds: DEFAULT_READY_TIMEOUT_SECONDS,
      },
      problems: [],
    });
    // The default version is one the program carries hashes for.
    expect(Object.keys(K3S_RELEASE_PINS)).toContain(DEFAULT_K3S_VERSION);
  });

  test.each(["dev", "prod"])("Pulumi.%s.yaml gives a valid k3s section; prod pins the version in its stack file", (stack) => {
    const values = stackValues(stack);
    const { k3s, problems } = readWith(values);
    expect(problems).toEqual([]);
    expect(k3s.version).toBe("v1.36.2+k3s1");
    expect([k3s.installer.sha256, k3s.binary.sha256, k3s.airgapImages.sha256]).toEqual([PINNED.installer, PINNED.binary, PINNED.images]);
    expect(stackFileKeys(stack).includes("k3sVersion")).toBe(stack === "prod");
  });

  test("a version the program does not pin needs all three hashes, each asked for with the command that prints it", () => {
    const problems = readWith({ k3sVersion: "v1.35.4+k3s1" }).problems;
    expect(problems).toEqual([
      "image-pipeline:k3sInstallerSha256: is required for k3sVersion v1.35.4+k3s1: the program pins hashes only for v1.36.2+k3s1, and nodes install nothing unverified. Fix: curl -sL https://raw.githubusercontent.com/k3s-io/k3s/v1.35.4%2Bk3s1/install.sh | sha256sum (read the script first), then pulumi config set k3sInstallerSha256 <sha256>",
      "image-pipeline:k3sBinarySha256: is required for k3sVersion v1.35.4+k3s1: the program pins hashes only for v1.36.2+k3s1, and nodes install nothing unverified. Fix: curl -sL https://github.com/k3s-io/k3s/releases/download/v1.35.4%2Bk3s1/sha256sum-amd64.txt | grep ' k3s$', then pulumi config set k3sBinarySha256 <sha256>",
      "image-pipeline:k3sAirgapImagesSha256: is required for k3sVersion v1.35.4+k3s1: the program pins hashes only for v1.36.2+k3s1, and nodes install nothing unverified. Fix: curl -sL https://github.com/k3s-io/k3s/releases/download/v1.35.4%2Bk3s1/sha256sum-amd64.txt | grep ' k3s-airgap-images-amd64.tar.zst$', then pulumi config set k3sAirgapImagesSha256 <sha256>",
    ]);
  });

  test("a mirror, other hashes and other timeouts are accepted", () => {
    expect(
      readWith({
        k3sInstallerUrl: "https://mirror.example.org/k3s/install.sh",
        k3sDownloadBaseUrl: "https://mirror.example.org/k3s/releases/",
        k3sInstallerSha256: OTHER.installer,
        k3sBinarySha256: OTHER.binary.toUpperCase(),
        k3sAirgapImagesSha256: OTHER.images,
        k3sJoinTimeoutSeconds: "120",
        k3sReadyTimeoutSeconds: "3600",
        k3sVersion: "v1.35.4+k3s1",
      }),
    ).toEqual({
      k3s: {
        version: "v1.35.4+k3s1",
        installer: { url: "https://mirror.example.org/k3s/install.sh", sha256: OTHER.installer },
        binary: { url: "https://mirror.example.org/k3s/releases/v1.35.4%2Bk3s1/k3s", sha256: OTHER.binary },
        airgapImages: {
          url: "https://mirror.example.org/k3s/releases/v1.35.4%2Bk3s1/k3s-airgap-images-amd64.tar.zst",
          sha256: OTHER.images,
        },
        joinTimeoutSeconds: 120,
        readyTimeoutSeconds: 3600,
      },
      problems: [],
    });
  });

  test("a stack hash overrides the pin for the pinned version too", () => {
    expect(readWith({ k3sBinarySha256: OTHER.binary }).k3s.binary.sha256).toBe(OTHER.binary);
  });

  test.each([
    [
      "k3sVersion",
      "1.32.11",
      'image-pipeline:k3sVersion: must be a k3s release tag such as v1.36.2+k3s1 (see github.com/k3s-io/k3s/releases), got "1.32.11". Fix: pulumi config set k3sVersion v1.36.2+k3s1',
    ],
    [
      "k3sVersion",
      "latest",
      'image-pipeline:k3sVersion: must be a k3s release tag such as v1.36.2+k3s1 (see github.com/k3s-io/k3s/releases), got "latest". Fix: pulumi config set k3sVersion v1.36.2+k3s1',
    ],
    [
      "k3sInstallerUrl",
      "http://get.k3s.io",
      'image-pipeline:k3sInstallerUrl: must be an https:// URL of the k3s install script (nodes run what it serves as root), got "http://get.k3s.io". Fix: pulumi config rm k3sInstallerUrl (the script at the release\'s tag, https://raw.githubusercontent.com/k3s-io/k3s/v1.36.2%2Bk3s1/install.sh), or your mirror of it',
    ],
    [
      "k3sInstallerUrl",
      "get.k3s.io",
      'image-pipeline:k3sInstallerUrl: must be an https:// URL of the k3s install script (nodes run what it serves as root), got "get.k3s.io". Fix: pulumi config rm k3sInstallerUrl (the script at the release\'s tag, https://raw.githubusercontent.com/k3s-io/k3s/v1.36.2%2Bk3s1/install.sh), or your mirror of it',
    ],
    [
      "k3sBinarySha256",
      "sha256:65a5",
      "image-pipeline:k3sBinarySha256: must be a sha256 in hex (64 characters 0-9a-f), got \"sha256:65a5\". Fix: curl -sL https://github.com/k3s-io/k3s/releases/download/v1.36.2%2Bk3s1/sha256sum-amd64.txt | grep ' k3s$'",
    ],
    [
      "k3sDownloadBaseUrl",
      "http://github.com/k3s-io/k3s/releases/download",
      'image-pipeline:k3sDownloadBaseUrl: must be an https:// URL of the k3s release downloads (<base>/<tag>/k3s), got "http://github.com/k3s-io/k3s/releases/download". Fix: pulumi config set k3sDownloadBaseUrl https://github.com/k3s-io/k3s/releases/download, or your mirror laid out the same way',
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
