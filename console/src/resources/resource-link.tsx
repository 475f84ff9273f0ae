/**
 * A link to a resource's history page (by id, else by name), followed in place by the console's
 * router; plain text when the trace names neither.
 */
import { navigate, pageHref } from '../router'

export function ResourceLink(props: {
  readonly by: 'resource_id' | 'resource_name'
  readonly value: string | null | undefined
}) {
  const value = props.value ?? ''
  if (value === '') return null
  const params = { [props.by]: value }
  return (
    <a
      href={pageHref('resources', params)}
      title={`History of ${value}`}
      onClick={(e) => {
        e.preventDefault()
        navigate('resources', false, params)
      }}
    >
      {value}
    </a>
  )
}
