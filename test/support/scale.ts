/**
 * Sizes of the scale and property tests. `make mutation` runs every covering test once per mutant against
 * instrumented code (vitest.mutation.config.ts sets BUILDER_IMAGES_MUTATION=1); there these tests keep their
 * shape at a small size, since a mutant that changes behaviour shows at any size. `make test` runs them at full
 * size, which is where stack depth and quadratic time are caught.
 */
export const underMutation = process.env.BUILDER_IMAGES_MUTATION === '1';

export const atScale = (full: number, underMutationRun: number): number => (underMutation ? underMutationRun : full);
