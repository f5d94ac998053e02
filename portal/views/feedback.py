"""The accessibility feedback form (``/@@accessibility-feedback``) and its list for administrators
(``/@@feedback``).

Anyone may send feedback; the form keeps what was written when something is wrong and says so beside the
field and in a summary at the top.  A message sent goes to :class:`portal.feedback.FeedbackBox` and to the
audit log (its length and whether a name or an address was given, never the address itself), then the
sender is redirected to a thank-you page that promises an answer within 14 days.
"""

import colander
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther, HTTPTooManyRequests
from pyramid.view import view_config

from portal.audit import record
from portal.feedback import ANSWER_DAYS, MAX_MESSAGE, MAX_NAME, feedback_box, send_limits, utcnow
from portal.i18n import _
from portal.resources.site import Site
from portal.security import MANAGE, SEND_FEEDBACK

THEME = 'kaiku_theme:templates/'
FIELDS = ('name', 'email', 'message')


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class FeedbackSchema(colander.MappingSchema):
    name = colander.SchemaNode(
        colander.String(), missing='', preparer=_strip, validator=colander.Length(max=MAX_NAME)
    )
    email = colander.SchemaNode(
        colander.String(),
        missing='',
        preparer=_strip,
        validator=colander.All(
            colander.Length(max=MAX_NAME),
            colander.Email(msg=_('Give an email address such as name@example.fi, or leave it empty.')),
        ),
    )
    message = colander.SchemaNode(
        colander.String(),
        multiline=True,
        preparer=_strip,
        missing_msg=_('Write your feedback.'),
        validator=colander.Length(
            min=1,
            max=MAX_MESSAGE,
            min_err=_('Write your feedback.'),
            max_err=_('The feedback may have at most ${max} characters.', mapping={'max': MAX_MESSAGE}),
        ),
    )


def _posted(request):
    try:
        return {name: request.POST.get(name, '') for name in FIELDS}
    except UnicodeDecodeError as e:
        raise HTTPBadRequest(_('The form holds characters that are not valid UTF-8.')) from e


@view_config(
    context=Site, name='accessibility-feedback', renderer=THEME + 'feedback.pt', permission=SEND_FEEDBACK
)
def accessibility_feedback(context, request):
    values = {'values': dict.fromkeys(FIELDS, ''), 'errors': {}, 'sent': False, 'answer_days': ANSWER_DAYS}
    if request.method != 'POST':
        values['sent'] = request.GET.get('sent') == '1'
        return values
    posted = _posted(request)
    values['values'] = posted
    throttle = request.registry.feedback_throttle
    wait = throttle.retry_after(send_limits(request))
    if wait:
        raise HTTPTooManyRequests(
            _(
                'You have sent several messages in a short time. Wait ${minutes} minutes and send again.',
                mapping={'minutes': (wait + 59) // 60},
            ),
            headers={'Retry-After': str(wait)},
        )
    try:
        appstruct = FeedbackSchema().deserialize(posted)
    except colander.Invalid as e:
        request.response.status_int = 400
        values['errors'] = e.asdict(translate=request.localizer.translate)
        return values
    feedback_box(request, create=True).add(appstruct['name'], appstruct['email'], appstruct['message'])
    throttle.failed(send_limits(request))
    record(
        request,
        'feedback.sent',
        detail={
            'length': len(appstruct['message']),
            'with_name': bool(appstruct['name']),
            'with_email': bool(appstruct['email']),
        },
    )
    return HTTPSeeOther(request.resource_url(context, 'accessibility-feedback', query={'sent': '1'}))


@view_config(context=Site, name='feedback', renderer=THEME + 'feedback_admin.pt', permission=MANAGE)
def feedback_admin(context, request):
    if request.method == 'POST':
        try:
            key = int(request.POST.get('key', ''))
        except (ValueError, UnicodeDecodeError) as e:
            raise HTTPBadRequest(_('No such message.')) from e
        box = feedback_box(request)
        item = box.mark_answered(key, request.authenticated_userid) if box is not None else None
        if item is None:
            raise HTTPBadRequest(_('No such message.'))
        record(request, 'feedback.answered', detail={'key': key})
        return HTTPSeeOther(request.resource_url(context, 'feedback'))
    box = feedback_box(request)
    return {
        'messages': box.newest() if box is not None else [],
        'now': utcnow(),
        'answer_days': ANSWER_DAYS,
    }
