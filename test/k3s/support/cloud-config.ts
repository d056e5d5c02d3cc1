/** Reading rendered cloud-config the way cloud-init's write_files does: gz+b64 files are decoded. */
import { gunzipSync } from "zlib";
import type { CloudConfigWriteFile, K3sCloudConfig } from "../../../infra/k3s/user-data";

export function decodedContent(f: CloudConfigWriteFile): string {
  if (f.encoding === undefined) return f.content;
  if (f.encoding !== "gz+b64") throw new Error(`${f.path}: unexpected encoding ${String(f.encoding)}`);
  return gunzipSync(Buffer.from(f.content, "base64")).toString("utf8");
}

/** The decoded content of the file written at `filePath`, or undefined when the document writes none there. */
export function fileText(doc: K3sCloudConfig, filePath: string): string | undefined {
  const f = doc.write_files.find((w) => w.path === filePath);
  return f === undefined ? undefined : decodedContent(f);
}
