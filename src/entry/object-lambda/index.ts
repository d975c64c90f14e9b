/** S3 Object Lambda GetObject: the enriched version of a CloudTrail object (entry point: handlers/object-lambda.ts). */
export {
  ERRORS,
  ObjectLambdaEventError,
  answerGetObject,
  createObjectLambdaHandler,
  writeAnswer,
  type AnswerOptions,
  type FetchLike,
  type GetObjectAnswer,
  type ObjectLambdaDeps,
  type ObjectLambdaHandler,
  type ObjectLambdaHandlerOptions,
} from './core.ts';
export { parseObjectLambdaEvent, type ObjectLambdaEvent, type ParsedGetObject } from './event.ts';
