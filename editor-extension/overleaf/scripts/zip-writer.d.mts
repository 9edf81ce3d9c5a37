/** A deflated ZIP of in-memory files (see zip-writer.mjs). */
export function zipFiles(files: Array<{ name: string; data: Buffer }>): Buffer;
