// Names for the API's types, taken from the OpenAPI document the server serves (generated into
// ../generated/schema.d.ts by `npm run types`): a changed contract breaks `tsc`, not the people.
import type { components, paths } from '../../generated/schema';

export type { paths };
export type S = components['schemas'];
export type Problem = S['Problem'];
export type Person = S['Person'];
export type Session = S['Session'];
export type User = S['User'];
export type Cohort = S['Cohort'];
export type Experiment = S['Experiment'];
export type CheckIn = S['CheckIn'];
export type SkillShare = S['SkillShare'];
export type SwapRequest = S['SwapRequest'];
export type TokenResponse = S['TokenResponse'];

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body a route takes. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: infer R;
}
  ? Json<NonNullable<R>>
  : never;
/** The JSON a route answers on success. */
export type ReplyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: infer O }
    ? Json<O>
    : R extends { 201: infer O }
      ? Json<O>
      : R extends { 202: infer O }
        ? Json<O>
        : undefined
  : never;
export type ListItem<P extends keyof paths> = ReplyOf<P, 'get' & keyof paths[P]> extends { items: (infer I)[] }
  ? I
  : never;
