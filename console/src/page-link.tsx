/** A link to a console page, followed in place by the console's router (no page load). */
import type { ComponentChildren } from 'preact'
import { navigate, pageHref, type Page } from './router'

export function PageLink(props: {
  readonly page: Page
  readonly params?: Readonly<Record<string, string>>
  readonly title?: string
  readonly children: ComponentChildren
}) {
  const params = props.params ?? {}
  return (
    <a
      href={pageHref(props.page, params)}
      {...(props.title === undefined ? {} : { title: props.title })}
      onClick={(e) => {
        e.preventDefault()
        navigate(props.page, false, params)
      }}
    >
      {props.children}
    </a>
  )
}
