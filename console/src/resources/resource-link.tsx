/**
 * A link to a resource's history page (by id, else by name), followed in place by the console's
 * router; plain text when the trace names neither.
 */
import { PageLink } from '../page-link'

export function ResourceLink(props: {
  readonly by: 'resource_id' | 'resource_name'
  readonly value: string | null | undefined
}) {
  const value = props.value ?? ''
  if (value === '') return null
  return (
    <PageLink page="resources" params={{ [props.by]: value }} title={`History of ${value}`}>
      {value}
    </PageLink>
  )
}
