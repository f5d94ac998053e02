"""The OpenAPI 3.1 description of the registry's JSON API, served at ``/registry/api/v1/openapi.json``.

Tests validate every response of the API against the schemas here, so the document cannot drift from
what the code does.
"""

from kaiku_registry.records import CLOSE_REASONS, MAX_GROUP

ERROR_CODES = [
    'unauthorized',
    'bad_request',
    'not_found',
    'rate_limited',
    'too_large',
    'unknown',
    'expired',
    'closed',
    'too_many_children',
    'no_children_on_courses',
    'bad_sector',
    'bad_children',
    'not_venue',
    'other_site',
    'too_late',
    'undone',
    'bad_group',
    'not_community',
    'busy',
    'server_error',
]

_error = {
    'type': 'object',
    'required': ['error', 'message'],
    'properties': {
        'error': {'type': 'string', 'enum': ERROR_CODES},
        'message': {'type': 'string'},
        'fields': {'type': 'object', 'additionalProperties': {'type': 'string'}},
    },
    'additionalProperties': False,
}


def _errors(*statuses):
    # Every operation may also answer 503 (``busy``, with Retry-After: a conflict that survived every
    # attempt) and 500 (``server_error``).
    statuses = (*statuses, 500, 503)
    return {
        str(status): {
            'description': 'An error with a stable code and a message.',
            'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}},
        }
        for status in statuses
    }


def _json(schema_name, description):
    return {
        'description': description,
        'content': {'application/json': {'schema': {'$ref': f'#/components/schemas/{schema_name}'}}},
    }


def _body(schema_name):
    return {
        'required': True,
        'content': {'application/json': {'schema': {'$ref': f'#/components/schemas/{schema_name}'}}},
    }


def document(server_url):
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'Kaikukortti registry API',
            'version': '1.1.0',
            'description': (
                'For ticketing systems and apps of venues: verify a card, record a visit, undo a visit, '
                "read the site's statistics. Authenticate with the site's API token: "
                '`Authorization: Bearer kk_…`. Card codes travel in request bodies, never in URLs.'
            ),
        },
        'servers': [{'url': server_url}],
        'security': [{'siteToken': []}],
        'paths': {
            '/verify': {
                'post': {
                    'summary': 'Verify a card code',
                    'operationId': 'verify',
                    'requestBody': _body('CodeRequest'),
                    'responses': {
                        '200': _json('Verification', 'The card status (also for unknown codes).'),
                        **_errors(400, 401, 413, 429),
                    },
                }
            },
            '/visits': {
                'post': {
                    'summary': 'Record a visit (one use) of a valid card',
                    'operationId': 'recordVisit',
                    'requestBody': _body('VisitRequest'),
                    'responses': {
                        '201': _json('Visit', 'The visit recorded.'),
                        **_errors(400, 401, 409, 413, 429),
                    },
                }
            },
            '/visits/undo': {
                'post': {
                    'summary': 'Undo a visit recorded by this site within 30 minutes',
                    'operationId': 'undoVisit',
                    'requestBody': _body('UndoRequest'),
                    'responses': {
                        '200': _json('Visit', 'The visit, now undone.'),
                        **_errors(400, 401, 404, 409, 413),
                    },
                }
            },
            '/statistics': {
                'get': {
                    'summary': "This site's visits by month and sector",
                    'operationId': 'statistics',
                    'responses': {'200': _json('Statistics', 'Counts for the site.'), **_errors(401, 413)},
                }
            },
        },
        'components': {
            'securitySchemes': {'siteToken': {'type': 'http', 'scheme': 'bearer'}},
            'schemas': {
                'Error': _error,
                'CodeRequest': {
                    'type': 'object',
                    'required': ['code'],
                    'properties': {
                        'code': {
                            'type': 'string',
                            'minLength': 1,
                            'maxLength': 200,
                            'description': 'The printed code (any case, dashes) or a scanned QR payload.',
                        }
                    },
                },
                'Verification': {
                    'type': 'object',
                    'required': ['status', 'children_allowed'],
                    'properties': {
                        'status': {'type': 'string', 'enum': ['valid', 'expired', 'closed', 'unknown']},
                        'children_allowed': {'type': 'integer', 'minimum': 0},
                        'valid_until': {'type': ['string', 'null'], 'format': 'date'},
                        'community': {'type': 'boolean'},
                        'closed_reason': {
                            'type': ['string', 'null'],
                            'enum': [*CLOSE_REASONS, None],
                            'description': (
                                'Why a closed card was closed (null unless the status is closed): replaced '
                                '(the holder has a new card; ask for it), lost or returned. Added in 1.1; a '
                                'client that does not know it reads the status as before.'
                            ),
                        },
                    },
                    'additionalProperties': False,
                },
                'VisitRequest': {
                    'type': 'object',
                    'required': ['code', 'sector'],
                    'properties': {
                        'code': {'type': 'string', 'minLength': 1, 'maxLength': 200},
                        'sector': {'type': 'string', 'enum': ['culture', 'education', 'science', 'sport']},
                        'children': {'type': 'integer', 'minimum': 0, 'default': 0},
                        'course': {'type': 'boolean', 'default': False},
                        'assistant': {'type': 'boolean', 'default': False},
                        'event': {'type': 'string', 'maxLength': 200},
                        'group': {
                            'type': 'integer',
                            'minimum': 0,
                            'maximum': MAX_GROUP,
                            'default': 0,
                            'description': "A community card's group: its clients under 16 (1 or more).",
                        },
                    },
                },
                'UndoRequest': {
                    'type': 'object',
                    'required': ['visit_id'],
                    'properties': {'visit_id': {'type': 'string', 'pattern': '^[0-9]{1,20}$'}},
                },
                'Visit': {
                    'type': 'object',
                    'required': ['visit_id', 'date', 'sector', 'adults', 'children', 'undone'],
                    'properties': {
                        'visit_id': {'type': 'string'},
                        'date': {'type': 'string', 'format': 'date'},
                        'sector': {'type': 'string'},
                        'adults': {'type': 'integer'},
                        'children': {'type': 'integer'},
                        'assistant': {'type': 'boolean'},
                        'course': {'type': 'boolean'},
                        'group': {'type': 'integer'},
                        'undone': {'type': 'boolean'},
                    },
                    'additionalProperties': False,
                },
                'Statistics': {
                    'type': 'object',
                    'required': ['site', 'months'],
                    'properties': {
                        'site': {'type': 'string'},
                        'months': {
                            'type': 'array',
                            'items': {
                                'type': 'object',
                                'required': ['month', 'adult_uses', 'child_uses'],
                                'properties': {
                                    'month': {'type': 'string'},
                                    'adult_uses': {
                                        'type': 'object',
                                        'additionalProperties': {'type': 'integer'},
                                    },
                                    'child_uses': {
                                        'type': 'object',
                                        'additionalProperties': {'type': 'integer'},
                                    },
                                },
                            },
                        },
                    },
                    'additionalProperties': False,
                },
            },
        },
    }
