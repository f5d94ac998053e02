"""The security policy: who the requester is, and what the context's ACL lets them do.

Every view declares a permission and the default permission is ``manage``, so a view that forgets one is
closed, not public.  An item's ACL comes from its workflow state (:mod:`portal.workflow`) and its parents.
"""

from pyramid.authorization import ACLHelper, Authenticated, Everyone


class SecurityPolicy:
    """ACL security: anonymous requesters hold the ``Everyone`` principal only."""

    def __init__(self):
        self.helper = ACLHelper()

    def identity(self, request):
        return None

    def authenticated_userid(self, request):
        identity = request.identity
        return identity['login'] if identity else None

    def effective_principals(self, request):
        principals = [Everyone]
        identity = request.identity
        if identity:
            principals += [Authenticated, f'user:{identity["login"]}', *identity.get('roles', ())]
        return principals

    def permits(self, request, context, permission):
        return self.helper.permits(context, self.effective_principals(request), permission)

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def includeme(config):
    config.set_security_policy(SecurityPolicy())
    config.set_default_permission('manage')
