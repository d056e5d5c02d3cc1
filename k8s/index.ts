/** Pure Kubernetes builders for the image pipeline: typed settings in, plain Kubernetes objects out. No I/O. */
export * from "./alert-rules";
export * from "./configuration";
export * from "../common/image";
export * from "./labels";
export * from "./manifest";
export * from "./names";
export * from "../common/quantity";
export * from "./registry";
export * from "./settings";
export * from "./version";
export * from "./yaml";
