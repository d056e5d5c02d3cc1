/**
 * Entry point for `pulumi up`: validate the stack's config first, then declare everything.
 * Every property of the object `imagePipeline` returns becomes a stack output.
 */
import { loadStackConfig } from "./config/pulumi-source";
import { imagePipeline } from "./program";

export = imagePipeline(loadStackConfig());
