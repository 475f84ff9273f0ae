export { ERROR_CATALOGUE, type CatalogueEntry, type ErrorCode } from './catalogue.js'
export {
  OpenCtsError,
  ctsError,
  isOpenCtsError,
  type OpenCtsErrorOptions,
} from './opencts-error.js'
